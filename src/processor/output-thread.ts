/**
 * The processor's output thread. Producing is about a third of the processor's work (building messages,
 * encoding record batches, compressing them, handling acknowledgements); on its own thread it runs beside
 * processing instead of taking turns with it. The processing thread posts packed records
 * (`packed-outputs.ts`), transferring their memory, and awaits the broker's acknowledgement.
 *
 * If the thread dies, pending writes fail (the processor then rebuilds from its checkpoints, as after any failed
 * flush) and the next write starts a new thread.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OutputProducerOptions, OutputWrite } from './output-producer.js';
import { transferList } from './packed-outputs.js';

export type OutputRequest = { id: number; kind: 'write'; write: OutputWrite } | { id: number; kind: 'close' };

export type OutputReply =
  | { id: number; ok: true }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

interface Waiting {
  worker: Worker;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The worker module beside this one; from TypeScript sources (tests, tsx) it loads through tsx. */
function spawn(options: OutputProducerOptions): Worker {
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`./output-worker${extname(here)}`, import.meta.url);
  if (extname(here) === '.ts') {
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
    return new Worker(boot, { eval: true, workerData: options });
  }
  return new Worker(entry, { workerData: options });
}

export class OutputThread {
  readonly #options: OutputProducerOptions;
  #worker: Worker | null = null;
  #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(options: OutputProducerOptions) {
    this.#options = options;
  }

  /**
   * Writes `write` and resolves once the broker acknowledged all of it. Writes are carried out in call order.
   * The packed records' memory moves to the output thread: `write.packed` is unusable afterwards.
   */
  write(write: OutputWrite): Promise<void> {
    return this.#request({ id: this.#nextId++, kind: 'write', write }, write.packed ? transferList(write.packed) : []);
  }

  /** Closes the producers and ends the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    try {
      await this.#request({ id: this.#nextId++, kind: 'close' }, []);
    } finally {
      this.#worker = null;
      await worker.terminate();
    }
  }

  #request(request: OutputRequest, transfer: ArrayBuffer[]): Promise<void> {
    const worker = this.#worker ?? this.#start();
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(request.id, { worker, resolve, reject });
      // Keeps the process alive only while something is in flight.
      worker.ref();
      worker.postMessage(request, transfer);
    });
  }

  #start(): Worker {
    const worker = spawn(this.#options);
    worker.unref();
    worker.on('message', (reply: OutputReply) => {
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (![...this.#waiting.values()].some((w) => w.worker === worker)) worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve();
      else waiting.reject(Object.assign(new Error(reply.error.message), reply.error));
    });
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = null;
      for (const [id, w] of this.#waiting) {
        if (w.worker !== worker) continue;
        this.#waiting.delete(id);
        w.reject(err);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the output thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

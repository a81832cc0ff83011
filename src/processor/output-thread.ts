/**
 * The processor's output thread. Producing is about a third of the processor's work (building messages,
 * encoding record batches, compressing them, handling acknowledgements); on its own thread it runs beside
 * processing instead of taking turns with it. The processing thread posts packed records
 * (`packed-outputs.ts`), transferring their memory, and awaits the broker's acknowledgement.
 *
 * If the thread dies, pending writes fail (the processor then rebuilds from its checkpoints, as after any failed
 * flush) and the next write starts a new thread.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OutputProducerOptions, OutputWrite } from './output-producer.js';
import { transferList } from './packed-outputs.js';

export type OutputRequest =
  | { id: number; kind: 'write'; write: OutputWrite }
  | { id: number; kind: 'abort' }
  | { id: number; kind: 'close' };

export type OutputReply =
  | { id: number; ok: true }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

interface Waiting {
  worker: Worker;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The worker module beside this one; from TypeScript sources (tests, tsx) it loads through tsx's loader. */
function spawn(options: OutputProducerOptions): Worker {
  const here = fileURLToPath(import.meta.url);
  const entry = new URL(`./output-worker${extname(here)}`, import.meta.url);
  if (extname(here) === '.ts') {
    const boot = `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
    return new Worker(boot, { eval: true, workerData: options });
  }
  return new Worker(entry, { workerData: options });
}

/** The ES module of tsx's API, found through its package's exports map (relative to this file, not the cwd). */
function tsxApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = exports['./esm/api']?.import.default;
  if (!api) throw new Error('tsx does not export ./esm/api');
  return pathToFileURL(join(dirname(manifest), api)).href;
}

/** How long `close()` lets the thread close its producers before ending it anyway. */
const CLOSE_TIMEOUT_MS = 5000;

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

  /** Exactly-once: aborts the open transaction (a no-op when none is open, or the thread is not running). */
  abort(): Promise<void> {
    if (!this.#worker) return Promise.resolve();
    return this.#request({ id: this.#nextId++, kind: 'abort' }, []);
  }

  /** Closes the producers and ends the thread. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Queued behind a write that is still pending, the close may wait for that write's timeout: bounded here.
      await Promise.race([
        this.#request({ id: this.#nextId++, kind: 'close' }, []).catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
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
      try {
        worker.postMessage(request, transfer);
      } catch (err) {
        this.#settled(request.id, worker);
        throw err;
      }
    });
  }

  /** Forgets request `id`; unrefs its worker once nothing of it is in flight. */
  #settled(id: number, worker: Worker): Waiting | undefined {
    const waiting = this.#waiting.get(id);
    this.#waiting.delete(id);
    if (![...this.#waiting.values()].some((w) => w.worker === worker)) worker.unref();
    return waiting;
  }

  #start(): Worker {
    const worker = spawn(this.#options);
    worker.unref();
    worker.on('message', (reply: OutputReply) => {
      const waiting = this.#settled(reply.id, worker);
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

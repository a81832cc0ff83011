/**
 * Entry point of the output thread: writes what the processing thread posts, one write at a time, and answers
 * each with its outcome. See `output-thread.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OutputProducer, type OutputProducerOptions } from './output-producer.js';
import type { OutputReply, OutputRequest } from './output-thread.js';

const port = parentPort;
if (!port) throw new Error('output-worker runs as a worker thread');

const producer = new OutputProducer(workerData as OutputProducerOptions);
// Writes run in arrival order, one at a time: each lane's producer must see its sends in order.
let queue: Promise<void> = Promise.resolve();

async function handle(request: OutputRequest): Promise<OutputReply> {
  try {
    if (request.kind === 'write') await producer.write(request.write);
    else if (request.kind === 'abort') await producer.abort();
    else await producer.close();
    return { id: request.id, ok: true };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    return {
      id: request.id,
      ok: false,
      error: { name: e.name, message: withCauses(e), ...(typeof code === 'string' ? { code } : {}) },
    };
  }
}

/** The client's errors aggregate the broker's answers: their names go along, the objects do not cross threads. */
function withCauses(e: Error): string {
  const inner = (e as { errors?: unknown }).errors;
  if (!Array.isArray(inner) || inner.length === 0) return e.message;
  const names = inner.map((x: { apiId?: unknown; message?: unknown }) => String(x?.apiId ?? x?.message ?? x));
  return `${e.message} (${[...new Set(names)].join(', ')})`;
}

port.on('message', (request: OutputRequest) => {
  queue = queue.then(async () => port.postMessage(await handle(request)));
});

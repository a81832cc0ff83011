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
    else await producer.close();
    return { id: request.id, ok: true };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    return {
      id: request.id,
      ok: false,
      error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
}

port.on('message', (request: OutputRequest) => {
  queue = queue.then(async () => port.postMessage(await handle(request)));
});

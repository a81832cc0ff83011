/**
 * One start of the embedded stream layer, in a process of its own (forked by `bench/startup.ts`), so that each
 * start begins with a cold heap and its memory is the stream layer's alone. It times `start()` to the first
 * `check()` that passes (ready: caught up with the end offsets seen at start-up), and the process's own start to
 * that moment, then forces a GC (the parent runs it with `--expose-gc`) and reports the times, RSS, heap and what
 * it read, over IPC, and exits.
 *
 *   argv: <brokers> <windows topic> <latest topic> <windows per device> <horizon ms>
 */
import { createLogger } from '../src/observability/logger.js';
import { createEmbeddedStreamLayer } from '../src/stream-layer/embedded-stream-layer.js';

export interface StartupSample {
  type: 'sample';
  /** `start()` to ready. */
  readyMs: number;
  /** Process start (node, module loading) to ready: what an instance's start-up costs before it serves. */
  processReadyMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  recordsRead: number;
  windowsHeld: number;
  devices: number;
}

const [brokers = '127.0.0.1:9092', windowsTopic = '', latestTopic = '', perDevice = '1000', horizon = '0'] =
  process.argv.slice(2);

const layer = createEmbeddedStreamLayer({
  kafka: { brokers: brokers.split(','), clientId: 'bench-startup' },
  logger: createLogger({ level: 'warn' }),
  windowsTopic,
  latestTopic,
  windowsPerDevice: Number(perDevice),
  windowsHorizonMs: Number(horizon),
});

const started = performance.now();
await layer.start();
for (;;) {
  try {
    await layer.check();
    break;
  } catch {
    // Not ready yet: poll again shortly (the poll interval bounds the timing's resolution).
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
const readyMs = performance.now() - started;
// performance.now() counts from the process's time origin.
const processReadyMs = performance.now();
global.gc?.();
const memory = process.memoryUsage();
const metric = (name: string) => layer.metrics().find((m) => m.name === name)?.value ?? Number.NaN;
const sample: StartupSample = {
  type: 'sample',
  readyMs,
  processReadyMs,
  rssBytes: memory.rss,
  heapUsedBytes: memory.heapUsed,
  recordsRead: metric('stream_layer_records_total'),
  windowsHeld: metric('stream_layer_windows'),
  devices: metric('stream_layer_devices'),
};
await layer.stop();
process.send?.(sample, () => process.exit(0));

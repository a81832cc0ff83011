/**
 * A processor in its own process, for the SIGKILL and SIGSTOP tests: options as JSON in argv[2], one JSON line of
 * stats and owned partitions on stdout every 100 ms, a graceful stop on SIGTERM.
 */
import { createSilentLogger } from '../../src/observability/logger.js';
import { createStreamProcessor, type StreamProcessorOptions } from '../../src/processor/processor.js';

const options = JSON.parse(process.argv[2] ?? '{}') as Omit<StreamProcessorOptions, 'logger'>;
const processor = createStreamProcessor({ ...options, logger: createSilentLogger() });
await processor.start();
const timer = setInterval(
  () =>
    process.stdout.write(`${JSON.stringify({ ...processor.stats(), partitions: processor.assignedPartitions() })}\n`),
  100,
);
process.on('SIGTERM', () => {
  clearInterval(timer);
  void processor.stop().then(() => process.exit(0));
});

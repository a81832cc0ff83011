/**
 * The reference of the consuming benchmarks: a plain @platformatic/kafka consumer reading `total` records of
 * `topics` from the start, no decoding. Returns the milliseconds from the first record to the last.
 */
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';

export async function rawConsume(brokers: string[], topics: string[], total: number, groupId: string): Promise<number> {
  const consumer = new Consumer({
    clientId: 'bench-raw',
    groupId,
    bootstrapBrokers: brokers,
    maxWaitTime: 100,
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
  });
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let count = 0;
  let started = 0;
  let last = performance.now();
  // A stall guard, so a miscount can never hang the benchmark.
  const guard = setInterval(() => {
    if (performance.now() - last > 10_000) {
      console.log(`raw consume stalled at ${count} records`);
      void stream.close();
    }
  }, 1000);
  for await (const _ of stream) {
    if (count === 0) started = performance.now();
    last = performance.now();
    if (++count >= total) break;
  }
  clearInterval(guard);
  const elapsed = performance.now() - started;
  await stream.close();
  await consumer.close(true);
  return elapsed;
}

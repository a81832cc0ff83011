/**
 * The embedded stream layer against the real broker: it reads existing output records from the beginning of
 * every partition, reports ready only once caught up, skips and counts malformed records, and every instance
 * answers for every device.
 */

import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '../../src/bus/producer.js';
import { encodeWindowedKey } from '../../src/core/results.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { createEmbeddedStreamLayer } from '../../src/stream-layer/embedded-stream-layer.js';
import type { StreamLayer } from '../../src/stream-layer/stream-layer.js';
import { brokers, createTestTopics } from '../helpers/kafka.js';
import { latestRecord, windowRecord } from './support.js';

const layers: StreamLayer[] = [];
afterAll(async () => {
  for (const layer of layers) await layer.stop();
});

async function until(probe: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('embedded stream layer', () => {
  it('materializes existing records of every partition, then reports ready; malformed records are counted', async () => {
    const topics = await createTestTopics({ windows: 'esl_per2s', latest: 'esl_perdevice' });
    const producer = createProducer({ clientId: 'esl-test', bootstrapBrokers: brokers() });
    const base = 1_772_600_000_000;
    const devices = Array.from({ length: 12 }, (_, i) => `dev-${i}`);
    await producer.send({
      messages: devices.flatMap((d) =>
        [0, 1, 2].map((i) => ({
          topic: topics.windows,
          key: encodeWindowedKey(d, base + i * 2000),
          value: Buffer.from(JSON.stringify(windowRecord(d, base + i * 2000))),
        })),
      ),
    });
    await producer.send({
      messages: [
        ...devices.map((d) => ({
          topic: topics.latest,
          key: Buffer.from(d),
          value: Buffer.from(JSON.stringify(latestRecord(base))),
        })),
        { topic: topics.latest, key: Buffer.from('bad'), value: Buffer.from('{not json') },
        { topic: topics.windows, key: Buffer.from('short'), value: Buffer.from('{}') },
      ],
    });
    await producer.close();

    const make = () => {
      const layer = createEmbeddedStreamLayer({
        kafka: { brokers: brokers(), clientId: 'esl-test' },
        logger: createSilentLogger(),
        windowsTopic: topics.windows,
        latestTopic: topics.latest,
      });
      layers.push(layer);
      return layer;
    };
    const first = make();
    const second = make();
    await expect(first.check()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await first.start();
    await second.start();
    await until(() =>
      first.check().then(
        () => true,
        () => false,
      ),
    );
    // Ready means complete: every device and window is there at once.
    expect((await first.listLatest()).map((r) => r.device_id).sort()).toEqual([...devices].sort());
    for (const d of devices) expect(await first.listWindows({ deviceId: d, limit: 10 })).toHaveLength(3);
    const invalid = first.metrics().find((m) => m.name === 'stream_layer_records_invalid_total');
    expect(invalid?.value).toBe(2);
    // A second instance (its own consumer group) answers for every device too.
    await until(() =>
      second.check().then(
        () => true,
        () => false,
      ),
    );
    expect(await second.listLatest()).toEqual(await first.listLatest());
  });
});

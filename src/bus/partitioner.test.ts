import { randomBytes } from 'node:crypto';
import { compatibilityPartitioner, murmur2 as libraryMurmur2 } from '@platformatic/kafka';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner, murmur2, partitionForKey } from './partitioner.js';

describe('murmur2', () => {
  it("equals the Kafka client library's BigInt port on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(murmur2(bytes)).toBe(libraryMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it("equals Kafka's Utils.murmur2 on known values", () => {
    // Computed with Kafka's own org.apache.kafka.common.utils.Utils.murmur2 (kafka-clients 4.1.2).
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });
});

describe('javaCompatiblePartitioner', () => {
  it("chooses the library's compatibility partitioner's partition, never a negative one", () => {
    for (let i = 0; i < 5000; i++) {
      const key = i % 2 === 0 ? Buffer.from(`dev-${i}`) : randomBytes(1 + (i % 40));
      const hash = javaCompatiblePartitioner({ topic: 't' }, key);
      expect(hash).toBe(compatibilityPartitioner({ topic: 't' }, key));
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(partitionForKey(key, 3)).toBe(hash % 3);
    }
  });
});

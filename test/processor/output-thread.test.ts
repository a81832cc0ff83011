import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Consumer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { encodeWindowedKey } from '../../src/core/results.js';
import { readWholePartition } from '../../src/processor/fetcher.js';
import { OutputThread } from '../../src/processor/output-thread.js';
import { PackedOutputsBuilder } from '../../src/processor/packed-outputs.js';
import { brokers, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe('output thread', () => {
  it('writes packed and plain records with their keys, values, partitions and timestamps, in order', async () => {
    const { out } = await createTestTopics({ out: 'ot_out' }, 3);
    const expected: { key: Buffer; value: string; timestamp: number }[][] = [[], [], []];
    const builder = new PackedOutputsBuilder();
    for (let i = 0; i < 3000; i++) {
      const device = `dev-${i % 7}é`;
      const windowStart = i % 2 === 0 ? null : 1_700_000_000_000 + i;
      const value = JSON.stringify({ n: i, text: 'ü'.repeat(i % 5) });
      builder.add(out, i % 3, device, windowStart, value, 1_000 + i);
      const key = windowStart === null ? Buffer.from(device) : encodeWindowedKey(device, windowStart);
      expected[i % 3]?.push({ key, value, timestamp: 1_000 + i });
    }
    builder.addJoined(out, 1, 'dev-j', '{"a":1,', '"b":"ü"}', 99_999);
    expected[1]?.push({ key: Buffer.from('dev-j'), value: '{"a":1,"b":"ü"}', timestamp: 99_999 });

    const thread = new OutputThread({ brokers: brokers(), clientId: 'test' });
    try {
      const dead = { topic: out, partition: 2, key: bytes('k'), value: bytes('v'), headers: [['reason', 'bad']] };
      // Plain records go first, then the packed ones.
      expected[2]?.unshift({ key: Buffer.from('k'), value: 'v', timestamp: 5 });
      await thread.write({
        records: [{ ...dead, headers: [['reason', 'bad']], timestamp: 5 }],
        packed: builder.finish(),
      });
      await thread.write({
        records: [{ topic: out, partition: 0, key: bytes('last'), value: bytes('z'), timestamp: 7 }],
      });
      expected[0]?.push({ key: Buffer.from('last'), value: 'z', timestamp: 7 });
    } finally {
      await thread.close();
    }

    const consumer = new Consumer({ clientId: 'test', groupId: uniqueName('ot'), bootstrapBrokers: brokers() });
    try {
      const limits = { maxWaitMs: 100, maxBytes: 8 * 1024 * 1024, partitionMaxBytes: 4 * 1024 * 1024 };
      for (const partition of [0, 1, 2]) {
        const records = await readWholePartition(consumer, out, partition, limits);
        expect(
          records.map((r) => ({ key: r.key, value: r.value?.toString(), timestamp: r.timestamp })),
          `partition ${partition}`,
        ).toEqual(expected[partition]);
      }
    } finally {
      await consumer.close(true);
    }
    const [withHeaders] = (await readRecords([out], 3003)).filter((r) => r.key === 'k');
    expect(withHeaders?.headers.get('reason')).toBe('bad');
  });

  it('rejects a write the broker refuses, keeps serving afterwards, and closes', async () => {
    const { small } = await createTestTopics({ small: 'ot_small' }, 1, { 'max.message.bytes': '2000' });
    const thread = new OutputThread({ brokers: brokers(), clientId: 'test' });
    try {
      const write = (value: Uint8Array) => thread.write({ records: [{ topic: small, partition: 0, value }] });
      // What cannot cross to the thread fails at once, and leaves nothing in flight.
      await expect(write((() => 1) as unknown as Uint8Array)).rejects.toThrow(/could not be cloned/);
      // Random bytes: compression cannot shrink them under the topic's limit.
      await expect(write(new Uint8Array(randomBytes(50_000)))).rejects.toThrow();
      // The failed producer was replaced: the next write goes through.
      await write(bytes('x'.repeat(10)));
    } finally {
      await thread.close();
    }
    const records = await readRecords([small], 1);
    expect(records.map((r) => r.value)).toEqual(['x'.repeat(10)]);
  });

  it('fails a write to a broker that is unreachable or silent, in bounded time, without crashing', async () => {
    // Nothing listens on port 1: the client's short retries give up.
    const refused = new OutputThread({ brokers: ['127.0.0.1:1'], clientId: 'test', writeTimeoutMs: 10_000 });
    try {
      await expect(refused.write({ records: [{ topic: 'nowhere', value: bytes('v') }] })).rejects.toThrow();
    } finally {
      await refused.close();
    }
    // A "broker" that accepts connections and never answers: only the write timeout ends the wait.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const thread = new OutputThread({ brokers: [`127.0.0.1:${port}`], clientId: 'test', writeTimeoutMs: 1500 });
    try {
      const write = () => thread.write({ records: [{ topic: 'nowhere', value: bytes('v') }] });
      await expect(write()).rejects.toThrow(/not acknowledged within 1500 ms/);
      // Each write is tried afresh on new producers, and fails the same way.
      await expect(write()).rejects.toThrow(/not acknowledged within 1500 ms/);
    } finally {
      await thread.close();
      silent.close();
    }
  });
});

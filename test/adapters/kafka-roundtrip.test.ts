import type { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createAdmin, describePartitions, ensureTopics } from '../../src/bus/kafka-admin.js';
import { brokers, createStringProducer, createTestTopics, readRecords, uniqueName } from '../helpers/kafka.js';

describe('the local Kafka broker', () => {
  it('returns produced records with keys, values and headers intact', async () => {
    const { topic } = await createTestTopics({ topic: 'roundtrip' });
    const producer = createStringProducer();
    const sent = Array.from({ length: 30 }, (_, i) => ({
      topic,
      key: `dev-${i % 3}`,
      value: JSON.stringify({ i, text: 'héllo ✓' }),
      headers: new Map([['h', `v${i}`]]),
    }));
    await producer.send({ messages: sent });
    await producer.close();

    const got = await readRecords([topic], sent.length);
    const byValue = new Map(got.map((r) => [r.value, r]));
    expect(got).toHaveLength(sent.length);
    for (const m of sent) {
      const r = byValue.get(m.value);
      expect(r?.key).toBe(m.key);
      expect(r?.headers.get('h')).toBe(m.headers.get('h'));
    }
    // The same key always lands in the same partition.
    for (const key of ['dev-0', 'dev-1', 'dev-2']) {
      expect(new Set(got.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }
  });
});

describe('ensureTopics', () => {
  const conn = () => ({ brokers: brokers(), clientId: 'test' });

  it('creates topics once and is a no-op the second time', async () => {
    const admin = createAdmin(conn());
    const names = [uniqueName('ensure_a'), uniqueName('ensure_b')];
    try {
      const specs = names.map((name) => ({ name, partitions: 2, replicas: 1 }));
      expect(await ensureTopics(admin, specs)).toEqual(names);
      expect(await ensureTopics(admin, specs)).toEqual([]);
      const partitions = await describePartitions(admin, names);
      expect([...partitions.values()]).toEqual([2, 2]);
    } finally {
      await admin.deleteTopics({ topics: names });
      await admin.close();
    }
  });

  it('refuses an existing topic whose partition count differs', async () => {
    const admin = createAdmin(conn());
    const name = uniqueName('ensure_mismatch');
    try {
      await ensureTopics(admin, [{ name, partitions: 1, replicas: 1 }]);
      await expect(ensureTopics(admin, [{ name, partitions: 3, replicas: 1 }])).rejects.toMatchObject({
        code: 'TOPIC_MISMATCH',
      });
    } finally {
      await admin.deleteTopics({ topics: [name] });
      await admin.close();
    }
  });

  it('lets concurrent callers create the same topics', async () => {
    const admins = [createAdmin(conn(), 'a'), createAdmin(conn(), 'b')];
    const name = uniqueName('ensure_race');
    try {
      await Promise.all(admins.map((a) => ensureTopics(a, [{ name, partitions: 3, replicas: 1 }])));
      expect((await describePartitions(admins[0] as Admin, [name])).get(name)).toBe(3);
    } finally {
      await admins[0]?.deleteTopics({ topics: [name] });
      await Promise.all(admins.map((a) => a.close()));
    }
  });
});

/**
 * The app's producers put every key on the partition Kafka's own Java producer chooses. The oracle is the real
 * Java client: Kafka's console producer (kafka-tools, from the jars `npm run infra:up` resolves) writes a few
 * thousand keyed records with its default partitioner, and the partition each record landed in is compared
 * with `partitionForKey` and with the partition the app's `createProducer` gives the same key.
 */
import { spawn } from 'node:child_process';
import { defaultPartitioner } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { kafkaClasspath, loadInfraSettings } from '../../scripts/infra.js';
import { partitionForKey } from '../../src/bus/partitioner.js';
import { createProducer } from '../../src/bus/producer.js';
import { brokers, createTestTopics, readRecords } from '../helpers/kafka.js';

const PARTITIONS = 7;
const KEYS = 3000;

/** Device ids as the simulators name them, and odd ones: long, multi-byte, every length modulo 4. */
const keys = Array.from({ length: KEYS }, (_, i) => {
  if (i < 1000) return `dev-${i + 1}`;
  if (i < 2000) return `tag.${i.toString(36)}:${'x'.repeat(i % 9)}`;
  return `vessel_${i}-é${'ü'.repeat(i % 5)}`;
});

async function produceWithJava(topic: string, lines: string[]): Promise<void> {
  const classpath = kafkaClasspath(loadInfraSettings(process.env));
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-cp',
      classpath,
      'org.apache.kafka.tools.ConsoleProducer',
      '--bootstrap-server',
      brokers().join(','),
      '--topic',
      topic,
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=\t',
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdin.end(`${lines.join('\n')}\n`);
  const code = await exited;
  if (code !== 0) throw new Error(`the Java console producer exited with ${code}: ${stderr.slice(-2000)}`);
}

describe("the app's producers partition like Kafka's Java client", () => {
  it('puts a few thousand keys on the partitions the Java producer chooses', { timeout: 120_000 }, async () => {
    const topics = await createTestTopics({ java: 'part_java', app: 'part_app' }, PARTITIONS);
    await produceWithJava(
      topics.java,
      keys.map((k, i) => `${k}\t${i}`),
    );
    const producer = createProducer({ clientId: 'partitioner-test', bootstrapBrokers: brokers() });
    try {
      await producer.send({
        messages: keys.map((k, i) => ({ topic: topics.app, key: Buffer.from(k), value: Buffer.from(String(i)) })),
      });
    } finally {
      await producer.close();
    }

    const byJava = new Map<string, number>();
    for (const r of await readRecords([topics.java], KEYS)) byJava.set(r.key, r.partition);
    const byApp = new Map<string, number>();
    for (const r of await readRecords([topics.app], KEYS)) byApp.set(r.key, r.partition);
    expect(byJava.size).toBe(KEYS);
    expect(byApp.size).toBe(KEYS);

    const differences = keys.filter(
      (k) => byApp.get(k) !== byJava.get(k) || partitionForKey(Buffer.from(k), PARTITIONS) !== byJava.get(k),
    );
    expect(differences.slice(0, 5), `${differences.length} keys on another partition than Java's`).toEqual([]);
    // The library's own default partitioner (murmur2 >>> 0) is what the app used before: it disagrees with Java's on
    // a large share of these keys, so this comparison can tell the two apart.
    const libraryDefault = keys.filter(
      (k) => defaultPartitioner({ topic: topics.app }, Buffer.from(k)) % PARTITIONS !== byJava.get(k),
    );
    expect(libraryDefault.length).toBeGreaterThan(KEYS / 4);
  });
});

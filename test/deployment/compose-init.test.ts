/**
 * The `init` service's steps on this machine: topics on the real Kafka broker (private topic names) and migrations
 * on the real PostgreSQL (a private schema). Each step must be idempotent, since the service runs on every `up`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, runMigrations } from '../../scripts/compose-init.js';
import { createSilentLogger } from '../../src/observability/logger.js';
import { createTestDatabase, databaseUrl } from '../helpers/db.js';
import { brokers, uniqueName } from '../helpers/kafka.js';

const root = join(import.meta.dirname, '..', '..');
const options = { timeoutMs: 20_000, logger: createSilentLogger(), backoff: { initialMs: 50, maxMs: 200 } };
const admin = new Admin({ clientId: 'compose-init-test', bootstrapBrokers: brokers() });
const created: string[] = [];
afterAll(async () => {
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.close();
});

function topicNames() {
  const names = [uniqueName('init_location'), uniqueName('init_status')];
  created.push(...names);
  return names;
}

describe('init: topics', () => {
  const kafka = { brokers: brokers(), clientId: 'compose-init-test' };

  it('creates the topics with equal partition counts, and only checks them on the second run', async () => {
    const names = topicNames();
    const specs = names.map((name) => ({ name, partitions: 2, replicas: 1 }));
    expect(await createTopics(kafka, specs, options)).toEqual(names);
    expect(await createTopics(kafka, specs, options)).toEqual([]);
    const md = await admin.metadata({ topics: names });
    expect(names.map((n) => md.topics.get(n)?.partitionsCount)).toEqual([2, 2]);
  });

  it('refuses an existing topic with another partition count at once instead of waiting', async () => {
    const names = topicNames();
    await admin.createTopics({ topics: [names[1]!], partitions: 1, replicas: 1 });
    const started = Date.now();
    const specs = names.map((name) => ({ name, partitions: 2, replicas: 1 }));
    await expect(createTopics(kafka, specs, options)).rejects.toThrow(/has 1 partitions, expected 2/);
    expect(Date.now() - started).toBeLessThan(options.timeoutMs / 2);
  });
});

describe('init: migrations', () => {
  it('creates the warehouse tables, and a second run applies nothing', async () => {
    const { sql, schema } = await createTestDatabase();
    const dir = join(root, 'migrations');
    const first = await runMigrations(databaseUrl(), { ...options, dir, schema });
    const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
    expect(first.applied).toEqual(files.sort().map((f) => f.replace(/\.sql$/, '')));
    const tables = await sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = ${schema}`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['device_winagg_status_per2s', 'device_winagg_status_perdevice']),
    );
    expect((await runMigrations(databaseUrl(), { ...options, dir, schema })).applied).toEqual([]);
  });

  it('waits for a database that does not answer, then gives up naming the step', async () => {
    // A port nothing listens on: every attempt is refused, which is retryable until the deadline.
    const url = 'postgres://telemetry@127.0.0.1:1/telemetry';
    const run = runMigrations(url, { ...options, timeoutMs: 1000 });
    await expect(run).rejects.toThrow(/run database migrations: gave up after \d+ attempts in 1000 ms/);
  });
});

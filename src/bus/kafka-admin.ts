/**
 * Topic administration: idempotent creation of the pipeline topics with equal partition counts, and a
 * readiness probe. The two source topics must have the same partition count, because ksqlDB's join refuses
 * otherwise and because one processor instance owns the same partition numbers of both.
 */
import { Admin } from '@platformatic/kafka';
import { AppError, UnavailableError } from '../errors.js';

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicas: number;
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>;
}

export function createAdmin(conn: KafkaConnection, suffix = 'admin'): Admin {
  return new Admin({
    clientId: `${conn.clientId}-${suffix}`,
    bootstrapBrokers: conn.brokers,
    connectTimeout: 5000,
    requestTimeout: 10_000,
    retries: 2,
  });
}

/** Partition count per existing topic (topics that do not exist are absent from the map). */
export async function describePartitions(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const wanted = topics.filter((t) => existing.has(t));
  const result = new Map<string, number>();
  if (wanted.length === 0) return result;
  const md = await admin.metadata({ topics: wanted });
  for (const [name, topic] of md.topics) result.set(name, topic.partitionsCount);
  return result;
}

/**
 * Creates missing topics and checks that existing ones have the expected partition count.
 * Safe when several instances start at once: a concurrent creation shows up as "already exists" and is fine.
 * @returns the names of the topics this call created.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<string[]> {
  const before = await describePartitions(
    admin,
    specs.map((s) => s.name),
  );
  const created: string[] = [];
  for (const spec of specs) {
    const have = before.get(spec.name);
    if (have !== undefined) {
      checkPartitions(spec, have);
      continue;
    }
    try {
      await admin.createTopics({
        topics: [spec.name],
        partitions: spec.partitions,
        replicas: spec.replicas,
        configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      });
      created.push(spec.name);
    } catch (err) {
      if (!isTopicExists(err)) throw err;
      // Created meanwhile (another instance, or metadata that lagged behind the listing): check it all the same.
      checkPartitions(spec, await waitForPartitions(admin, spec.name));
    }
  }
  return created;
}

function checkPartitions(spec: TopicSpec, have: number): void {
  if (have === spec.partitions) return;
  throw new AppError(
    'TOPIC_MISMATCH',
    `topic ${spec.name} has ${have} partitions, expected ${spec.partitions}; ` +
      'the source topics must have equal partition counts',
    { details: { topic: spec.name, have, expected: spec.partitions } },
  );
}

/** A topic that "already exists" may not be in the metadata yet; poll briefly for its partition count. */
async function waitForPartitions(admin: Admin, topic: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const count = (await describePartitions(admin, [topic])).get(topic);
    if (count !== undefined) return count;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new UnavailableError('kafka', `topic ${topic} exists but its metadata never appeared`);
}

/** The client reports per-topic failures as a `ResponseError` (an AggregateError) of `ProtocolError`s. */
function isTopicExists(err: unknown): boolean {
  const errors = err instanceof AggregateError ? err.errors : [err];
  return errors.some((e: unknown) => (e as { apiId?: unknown } | null)?.apiId === 'TOPIC_ALREADY_EXISTS');
}

/** Resolves when a broker answers a metadata request; throws `UnavailableError` otherwise. */
export async function pingKafka(admin: Admin): Promise<void> {
  try {
    // forceUpdate: the client otherwise answers from its metadata cache, which outlives the broker.
    const md = await admin.metadata({ topics: [], forceUpdate: true });
    if (md.brokers.size === 0) throw new Error('no broker in metadata');
  } catch (err) {
    throw new UnavailableError('kafka', 'Kafka is unreachable', err);
  }
}

/**
 * The processor's topics, created when missing: the sources with equal partition counts (checked, as ksqlDB's
 * join refuses otherwise), the outputs with the sources' count (every output goes to its source's partition
 * number), the per-device table compacted, and the single-partition compacted checkpoint topic.
 */
import type { Admin } from '@platformatic/kafka';
import { describePartitions, ensureTopics } from '../bus/kafka-admin.js';
import { AppError } from '../errors.js';
import type { ProcessorTopics } from './processor-options.js';

export async function ensureProcessorTopics(
  admin: Admin,
  topics: ProcessorTopics,
  defaults: { partitions: number; replicas: number },
): Promise<void> {
  const sources = await describePartitions(admin, [topics.location, topics.status]);
  const counts = new Set(sources.values());
  if (counts.size > 1) {
    throw new AppError('TOPIC_MISMATCH', `${topics.location} and ${topics.status} have different partition counts`, {
      details: Object.fromEntries(sources),
    });
  }
  const partitions = [...counts][0] ?? defaults.partitions;
  const { replicas } = defaults;
  const spec = (name: string, configs?: Record<string, string>) => ({
    name,
    partitions,
    replicas,
    ...(configs ? { configs } : {}),
  });
  await ensureTopics(admin, [
    spec(topics.location),
    spec(topics.status),
    spec(topics.joinEvents),
    spec(topics.per2s),
    spec(topics.perDevice, { 'cleanup.policy': 'compact' }),
    spec(topics.deadLetters),
    {
      name: topics.checkpoints,
      partitions: 1,
      replicas,
      configs: { 'cleanup.policy': 'compact', 'segment.ms': '600000' },
    },
  ]);
}

/**
 * The processor's topics, created when missing: the sources with equal partition counts (checked, as ksqlDB's
 * join refuses otherwise), the outputs with the sources' count (every output goes to its source's partition
 * number), the per-device table compacted, and the single-partition compacted checkpoint topic. The streams and
 * the per2s changelog are deleted by age (`retentionMs`, `bus/topic-configs.ts`).
 */
import type { Admin } from '@platformatic/kafka';
import { describePartitions, ensureTopics } from '../bus/kafka-admin.js';
import { streamTopicConfigs, tableTopicConfigs, windowedTableTopicConfigs } from '../bus/topic-configs.js';
import { AppError } from '../errors.js';
import type { ProcessorTopics } from './processor-options.js';

export async function ensureProcessorTopics(
  admin: Admin,
  topics: ProcessorTopics,
  defaults: { partitions: number; replicas: number; retentionMs: number },
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
  const stream = streamTopicConfigs(defaults.retentionMs);
  await ensureTopics(admin, [
    spec(topics.location, stream),
    spec(topics.status, stream),
    spec(topics.joinEvents, stream),
    spec(topics.per2s, windowedTableTopicConfigs(defaults.retentionMs)),
    spec(topics.perDevice, tableTopicConfigs()),
    spec(topics.deadLetters, stream),
    {
      name: topics.checkpoints,
      partitions: 1,
      replicas,
      configs: { ...tableTopicConfigs(), 'segment.ms': '600000' },
    },
  ]);
}

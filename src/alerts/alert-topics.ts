/**
 * The alert component's topics, created when missing with the sources' partition count (an alert goes to its
 * source's partition number): `device_alerts`, every alert change, and the compacted state changelog. The streams
 * are deleted by age (`retentionMs`, `bus/topic-configs.ts`).
 */
import type { Admin } from '@platformatic/kafka';
import { describePartitions, ensureTopics } from '../bus/kafka-admin.js';
import { streamTopicConfigs, tableTopicConfigs } from '../bus/topic-configs.js';
import type { SourceTopics } from '../processor/processor-options.js';

export interface AlertTopics extends SourceTopics {
  /** Every alert change (JSON, keyed by device id). */
  alerts: string;
  /** The detector's per-device state (compacted changelog). */
  state: string;
}

export async function ensureAlertTopics(
  admin: Admin,
  topics: AlertTopics,
  defaults: { partitions: number; replicas: number; retentionMs: number },
): Promise<void> {
  const sources = await describePartitions(admin, [topics.location]);
  const partitions = sources.get(topics.location) ?? defaults.partitions;
  const { replicas } = defaults;
  const configs = streamTopicConfigs(defaults.retentionMs);
  await ensureTopics(admin, [
    { name: topics.location, partitions, replicas, configs },
    { name: topics.status, partitions, replicas, configs },
    { name: topics.alerts, partitions, replicas, configs },
    { name: topics.state, partitions, replicas, configs: tableTopicConfigs() },
  ]);
}

/**
 * The topic-level configs of every topic the app creates, by what the topic holds, so that nothing it creates
 * grows without bound (issue 15):
 *
 * - a stream (sources, `JOIN_EVENTS`, dead letters, `device_alerts`): deleted by age, `retention.ms`;
 * - a windowed table's changelog (`DEVICE_WINAGG_STATUS_PER2S`): compacted (older revisions of a window go) and
 *   deleted by age;
 * - a table or state changelog keyed by device (`DEVICE_WINAGG_STATUS_PERDEVICE`, the alert state, the
 *   checkpoints): compacted only, so bounded by the number of keys and never aged out.
 *
 * Configs apply when a topic is created; existing topics keep theirs (docs/processor.md, "Retention").
 */

/** Default of `KAFKA_RETENTION_MS`: 7 days. */
export const DEFAULT_RETENTION_MS = 604_800_000;

/**
 * An append-only stream, deleted by age.
 * @param retentionMs `retention.ms`; -1 keeps records forever.
 */
export function streamTopicConfigs(retentionMs: number): Record<string, string> {
  return { 'cleanup.policy': 'delete', 'retention.ms': String(retentionMs) };
}

/** A windowed table's changelog: the newest revision per window is kept, whole windows age out. */
export function windowedTableTopicConfigs(retentionMs: number): Record<string, string> {
  return { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retentionMs) };
}

/** A table keyed by device: compacted, bounded by the number of keys. */
export function tableTopicConfigs(): Record<string, string> {
  return { 'cleanup.policy': 'compact' };
}

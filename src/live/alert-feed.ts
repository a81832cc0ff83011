/**
 * The API instance's live view of the alerts: it follows every partition of `device_alerts`
 * (`bus/topic-follower.ts`), keeps the newest revision of every active alert (what `GET /alerts/active` answers),
 * and hands every change to its listeners (the broadcaster behind `GET /alerts/events`). It reads the topic,
 * not the alert component, so any instance answers for every device, on either engine.
 */
import type { KafkaConnection } from '../bus/kafka-admin.js';
import { createTopicFollower, type FollowedRecord } from '../bus/topic-follower.js';
import { type AlertRecord, decodeAlertRecord, newestOpenedFirst } from '../core/alerts/alert-record.js';
import type { Component } from '../lifecycle.js';
import type { Logger } from '../observability/logger.js';
import type { MetricSample, MetricsSource } from '../observability/metrics.js';

export interface AlertFeed extends Component, MetricsSource {
  /** Active alerts, newest opening first (`newestOpenedFirst`). */
  active(filter?: { deviceIds?: ReadonlySet<string>; types?: ReadonlySet<string> }): AlertRecord[];
  onChange(listener: (alert: AlertRecord) => void): () => void;
  /** Readiness: resolves once the feed has caught up with the topic. */
  check(): Promise<void>;
}

/** Cleared alerts whose revision is remembered (a stale replay of an older one would show it active again). */
const CLEARED_REMEMBERED = 100_000;

export function createAlertFeed(options: { kafka: KafkaConnection; topic: string; logger: Logger }): AlertFeed {
  const { logger } = options;
  const active = new Map<string, AlertRecord>();
  const revisions = new Map<string, number>();
  /** Cleared alerts whose revision is still remembered, oldest clearing first. */
  const cleared = new Set<string>();
  const listeners = new Set<(alert: AlertRecord) => void>();
  const counters = { records: 0, invalid: 0 };

  function handle(record: FollowedRecord) {
    counters.records++;
    const decoded = decodeAlertRecord(record.key, record.value);
    if (!decoded.ok) {
      counters.invalid++;
      if (counters.invalid <= 10 || counters.invalid % 1000 === 0) {
        logger.warn(
          { partition: record.partition, offset: String(record.offset), reason: decoded.reason },
          'alert_record_invalid',
        );
      }
      return;
    }
    const alert = decoded.alert;
    if (alert.revision <= (revisions.get(alert.alert_id) ?? 0)) return; // written again after a crash
    revisions.set(alert.alert_id, alert.revision);
    if (alert.status === 'active') {
      active.set(alert.alert_id, alert);
      cleared.delete(alert.alert_id);
    } else {
      active.delete(alert.alert_id);
      // A cleared alert never changes again, but an earlier revision of it written again after a crash must not
      // bring it back: its revision is remembered too, for the most recently cleared ones (bounded).
      cleared.add(alert.alert_id);
      if (cleared.size > CLEARED_REMEMBERED) {
        const oldest = cleared.values().next().value as string;
        cleared.delete(oldest);
        revisions.delete(oldest);
      }
    }
    for (const listener of listeners) {
      try {
        listener(alert);
      } catch (err) {
        logger.error({ err }, 'alert_listener_failed');
      }
    }
  }

  const follower = createTopicFollower({
    kafka: options.kafka,
    name: 'alert-feed',
    label: 'alert feed',
    topics: [options.topic],
    logger,
    onRecord: handle,
  });

  return {
    name: 'alert-feed',
    async start() {
      follower.start();
    },
    async stop() {
      await follower.stop();
      listeners.clear();
    },
    active(filter = {}) {
      return [...active.values()]
        .filter(
          (a) =>
            (!filter.deviceIds || filter.deviceIds.has(a.device_id)) && (!filter.types || filter.types.has(a.type)),
        )
        .sort(newestOpenedFirst);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async check() {
      follower.check();
    },
    metrics(): MetricSample[] {
      return [
        {
          name: 'alert_feed_records_total',
          help: 'device_alerts records read by the API',
          type: 'counter',
          value: counters.records,
        },
        {
          name: 'alert_feed_records_invalid_total',
          help: 'device_alerts records skipped because they do not decode',
          type: 'counter',
          value: counters.invalid,
        },
        { name: 'alert_feed_active', help: 'Active alerts the API serves', type: 'gauge', value: active.size },
      ];
    },
  };
}

/**
 * Topic names of the pipeline. Sources come from the specification; outputs carry ksqlDB's default sink
 * names (the upper-cased object names), so both engines write the same topics.
 */
export const TOPICS = {
  /** Movement model output (specification: "Topic: device_location"). */
  DEVICE_LOCATION: 'device_location',
  /** Sensor model output (specification: "Topic: device_status"). */
  DEVICE_STATUS: 'device_status',
  /** STREAM JOIN_EVENTS: location LEFT JOIN status WITHIN 2 SECONDS, geofenced, with DISTANCE. */
  JOIN_EVENTS: 'JOIN_EVENTS',
  /** TABLE device_winagg_status_per2s: 2-second tumbling aggregates per device. */
  DEVICE_WINAGG_STATUS_PER2S: 'DEVICE_WINAGG_STATUS_PER2S',
  /** TABLE device_winagg_status_perdevice: latest values per device. */
  DEVICE_WINAGG_STATUS_PERDEVICE: 'DEVICE_WINAGG_STATUS_PERDEVICE',
  /** Every alert change (JSON, keyed by device id), written by the alert component on both engines. */
  DEVICE_ALERTS: 'device_alerts',
  /**
   * STREAM device_alerts_avro, distributed engine only: ksqlDB's Avro copy of `device_alerts` for the Kafka Connect
   * JDBC sink, which needs records with a schema. The embedded engine neither writes nor reads it (its sink reads
   * `device_alerts`).
   */
  DEVICE_ALERTS_AVRO: 'DEVICE_ALERTS_AVRO',
  /** Records the embedded processor could not decode, with the reason in headers. */
  DEAD_LETTERS: 'telemetry_dead_letters',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** The two source topics; they must have the same partition count (ksqlDB's join refuses otherwise). */
export const SOURCE_TOPICS = [TOPICS.DEVICE_LOCATION, TOPICS.DEVICE_STATUS] as const;

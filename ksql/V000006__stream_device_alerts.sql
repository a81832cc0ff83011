-- Source stream over the alert component's topic (src/alerts/, on this engine too: it reads the source topics and
-- writes every alert change to device_alerts). JSON values, snake_case as src/core/alerts/alert-record.ts writes
-- them; ksqlDB matches JSON field names case-insensitively. The Kafka key is the device id (KAFKA format: its UTF-8
-- bytes), declared as DEVICE_KEY because a key column cannot share DEVICE_ID's name with the value column. No
-- TIMESTAMP: ROWTIME is the record's own timestamp, which the component sets to updated_at.
-- Read only by V000007 (the Avro copy for Kafka Connect). The topic must exist first: the init creates it with
-- the pipeline topics (pipelineTopics in src/app.ts), with the source topics' partition count.
CREATE STREAM stream_device_alerts (
  device_key VARCHAR KEY,
  alert_id VARCHAR,
  device_id VARCHAR,
  `TYPE` VARCHAR,
  metric VARCHAR,
  status VARCHAR,
  severity VARCHAR,
  opened_at BIGINT,
  cleared_at BIGINT,
  updated_at BIGINT,
  readings BIGINT,
  worst_value DOUBLE,
  normal_min DOUBLE,
  normal_max DOUBLE,
  latitude DOUBLE,
  longitude DOUBLE,
  revision BIGINT
) WITH (
  KAFKA_TOPIC = 'device_alerts',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON'
);

-- A pure format copy of device_alerts for the Kafka Connect JDBC sink (connect/device-alerts.json), which needs
-- records with a schema: every column of stream_device_alerts, unchanged and in order, with Avro values registered
-- in the Schema Registry. Nothing is filtered, computed or re-keyed, so the embedded engine has no counterpart:
-- its sink reads device_alerts itself (test/conformance/ksql-vectors.test.ts treats this stream accordingly).
-- The key stays the device id in KAFKA format, so ksqlDB's producer puts every record of a device, and with it
-- every revision of an alert, into one partition, in the order the query reads them; the partition count is
-- device_alerts' own (ksqlDB's default for a CREATE ... AS SELECT). TYPE is back-quoted only to be safe from the
-- keyword of CREATE TYPE; the column name is TYPE as with any unquoted name.
CREATE STREAM device_alerts_avro WITH (
  KAFKA_TOPIC = 'DEVICE_ALERTS_AVRO',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO'
) AS
  SELECT
    device_key,
    alert_id,
    device_id,
    `TYPE`,
    metric,
    status,
    severity,
    opened_at,
    cleared_at,
    updated_at,
    readings,
    worst_value,
    normal_min,
    normal_max,
    latitude,
    longitude,
    revision
  FROM stream_device_alerts
  EMIT CHANGES;

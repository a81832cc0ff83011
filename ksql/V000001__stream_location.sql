-- Source stream over the movement model's topic, exactly as the specification declares it.
-- No KEY column: DEVICE_ID is read from the JSON value, and ROWTIME is the value's event_ts.
-- The topic must exist first, with the same partition count as device_status (ksqlDB's join checks it).
CREATE STREAM stream_location (
  latitude DOUBLE,
  longitude DOUBLE,
  event_ts BIGINT,
  ID VARCHAR,
  device_id VARCHAR
) WITH (
  KAFKA_TOPIC = 'device_location',
  VALUE_FORMAT = 'JSON',
  TIMESTAMP = 'event_ts'
);

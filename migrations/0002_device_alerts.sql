-- Alert episodes (docs/alerts.md): one row per alert, holding its newest revision. Written by the embedded sink
-- (from device_alerts) and, on the distributed engine, by the Kafka Connect JDBC sink in connect/ (from the Avro
-- copy ksqlDB makes of device_alerts). Column names are the alert record's (src/core/alerts/alert-record.ts).
CREATE TABLE device_alerts (
  alert_id text PRIMARY KEY,               -- `<device_id>/<type>/<metric or ->/<opened_at>`
  device_id text NOT NULL,
  type text NOT NULL,                      -- sensor_anomaly | outside_geofence | inactive
  metric text,                             -- sound | temperature | altitude; NULL for the other types
  status text NOT NULL,                    -- active | cleared
  severity text NOT NULL,                  -- warning | critical
  opened_at bigint NOT NULL,               -- event time, epoch ms
  cleared_at bigint,                       -- event time; NULL while active
  updated_at bigint NOT NULL,              -- event time of the newest change
  readings bigint NOT NULL,
  worst_value double precision,
  normal_min double precision,
  normal_max double precision,
  latitude double precision,
  longitude double precision,
  revision bigint NOT NULL,                -- changes of the alert; the guard keeps the highest
  kafka_partition integer,                 -- where the stored revision came from (embedded sink only)
  kafka_offset bigint,
  opened_at_time timestamptz GENERATED ALWAYS AS (to_timestamp(opened_at / 1000.0)) STORED,
  cleared_at_time timestamptz GENERATED ALWAYS AS (to_timestamp(cleared_at / 1000.0)) STORED,
  CONSTRAINT device_alerts_type CHECK (type IN ('sensor_anomaly', 'outside_geofence', 'inactive')),
  CONSTRAINT device_alerts_status CHECK (status IN ('active', 'cleared')),
  CONSTRAINT device_alerts_severity CHECK (severity IN ('warning', 'critical')),
  CONSTRAINT device_alerts_revision_positive CHECK (revision > 0)
);

-- GET /alerts?device_id=…: one device's history, newest opening first.
CREATE INDEX device_alerts_device_opened_idx ON device_alerts (device_id, opened_at DESC, alert_id DESC);
-- GET /alerts: everyone's history, newest opening first.
CREATE INDEX device_alerts_opened_idx ON device_alerts (opened_at DESC, alert_id DESC);
-- The active alerts (few of them among many cleared).
CREATE INDEX device_alerts_active_idx ON device_alerts (opened_at DESC) WHERE status = 'active';

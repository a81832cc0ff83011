-- The two warehouse tables, written by the embedded sink (ENGINE=embedded) and by the Kafka Connect JDBC sinks in
-- connect/ (distributed engine). Column names are the lower-case names the API returns (src/core/results.ts).
-- Both sinks upsert: one row per window id, one row per device. Nothing creates these tables on first use.

-- One row per device and 2-second window, holding the newest aggregate of that window.
CREATE TABLE device_winagg_status_per2s (
  id text PRIMARY KEY,                    -- `<device_id>_<window_start>_<window_end>` (ksqlDB's ID column)
  device_id text NOT NULL,                -- ksqlDB's "dev_id"
  window_start bigint NOT NULL,           -- epoch ms, inclusive
  window_end bigint NOT NULL,             -- epoch ms, exclusive
  latitude double precision NOT NULL,     -- AVG over the window's join rows
  longitude double precision NOT NULL,
  distance double precision NOT NULL,     -- km from (9.0, 107.0)
  event_ts bigint NOT NULL,               -- MAX(EVENT_TS), epoch ms
  event_count bigint NOT NULL,            -- COUNT(*) of join rows
  -- ksqlDB's AVG gives 0.0 for a window without sensor values; nullable anyway because Avro fields that
  -- ksqlDB writes are optional, and a NULL must not fail a Connect task.
  avg_temp double precision,
  avg_sound double precision,
  avg_alt double precision,
  -- Where the stored version came from (embedded sink only; NULL when Kafka Connect wrote the row). The
  -- embedded sink's guard uses it to break ties between versions with equal event_count and event_ts.
  kafka_partition integer,
  kafka_offset bigint,
  -- Readable forms of the epoch-ms columns for people and BI tools; derived, so no writer can disagree.
  window_start_at timestamptz GENERATED ALWAYS AS (to_timestamp(window_start / 1000.0)) STORED,
  window_end_at timestamptz GENERATED ALWAYS AS (to_timestamp(window_end / 1000.0)) STORED,
  event_at timestamptz GENERATED ALWAYS AS (to_timestamp(event_ts / 1000.0)) STORED,
  CONSTRAINT per2s_window_bounds CHECK (window_end > window_start),
  CONSTRAINT per2s_event_count_positive CHECK (event_count > 0)
);

-- GET /stream/postgresql/raw: one device, newest window first, optionally within [from, to).
CREATE INDEX device_winagg_status_per2s_device_window_idx
  ON device_winagg_status_per2s (device_id, window_start DESC);
-- Time-range scans across all devices (history exports, dashboards).
CREATE INDEX device_winagg_status_per2s_window_start_idx
  ON device_winagg_status_per2s (window_start);

-- One row per device: the latest value of each column (LATEST_BY_OFFSET, nulls ignored per column). All value
-- columns are nullable: a device whose rows never joined a status has no sensor values.
CREATE TABLE device_winagg_status_perdevice (
  device_id text PRIMARY KEY,
  latitude double precision,
  longitude double precision,
  distance double precision,
  event_ts bigint,
  temperature double precision,
  sound double precision,
  altitude double precision,
  kafka_partition integer,                -- source position of the stored version (embedded sink only)
  kafka_offset bigint,
  event_at timestamptz GENERATED ALWAYS AS (to_timestamp(event_ts / 1000.0)) STORED
);

/** The API's wire shapes the page reads (docs/api.md, docs/alerts.md); snake_case as served. */

export interface DeviceLatest {
  device_id: string;
  latitude: number;
  longitude: number;
  distance: number;
  event_ts: number;
  temperature: number | null;
  sound: number | null;
  altitude: number | null;
}

export interface WindowAggregate {
  id: string;
  device_id: string;
  window_start: number;
  window_end: number;
  latitude: number;
  longitude: number;
  distance: number;
  event_ts: number;
  event_count: number;
  avg_temp: number;
  avg_sound: number;
  avg_alt: number;
}

export type AlertType = 'sensor_anomaly' | 'outside_geofence' | 'inactive';
export type Metric = 'sound' | 'temperature' | 'altitude';

export interface Alert {
  alert_id: string;
  device_id: string;
  type: AlertType;
  metric: Metric | null;
  status: 'active' | 'cleared';
  severity: 'warning' | 'critical';
  opened_at: number;
  cleared_at: number | null;
  updated_at: number;
  readings: number;
  worst_value: number | null;
  normal_min: number | null;
  normal_max: number | null;
  latitude: number | null;
  longitude: number | null;
  revision: number;
}

export interface Range {
  min: number;
  max: number;
}

export interface AlertRules {
  ranges: Record<Metric, Range>;
  clear_after_ms: number;
  inactive_after_ms: number;
  critical_deviation: number;
  geofence: { min_latitude: number; max_latitude: number; min_longitude: number; max_longitude: number };
}

export interface WebConfig {
  tile_url: string | null;
  tile_attribution: string | null;
  api_key_required: boolean;
}

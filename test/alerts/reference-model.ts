/**
 * An independent recomputation of the alert episodes from the source records, for tests that check what the
 * alert component wrote: written from the rules in docs/alerts.md by another method than the detector (each
 * device's readings of one kind split into runs, silences found as gaps between consecutive fixes), sharing no
 * code with `src/core/alerts/`.
 *
 * Valid when each device's records of one topic are in event-time order in the topic (the simulators write them
 * so), since each episode type depends on one topic only and the component keeps each partition's order.
 */

export interface Fix {
  device_id: string;
  event_ts: number;
  latitude: number;
  longitude: number;
}

export interface Reading {
  device_id: string;
  event_ts: number;
  sound: number | null;
  temperature: number | null;
  altitude: number | null;
}

export interface Rules {
  ranges: Record<'sound' | 'temperature' | 'altitude', { min: number; max: number }>;
  clearAfterMs: number;
  inactiveAfterMs: number;
  criticalDeviation: number;
  box: { minLatitude: number; maxLatitude: number; minLongitude: number; maxLongitude: number };
}

/** The specification's ranges and the documented defaults. */
export const SPECIFIED_RULES: Rules = {
  ranges: { sound: { min: 30, max: 50 }, temperature: { min: 20, max: 30 }, altitude: { min: 1000, max: 2000 } },
  clearAfterMs: 5000,
  inactiveAfterMs: 10_000,
  criticalDeviation: 0.1,
  box: { minLatitude: 8, maxLatitude: 10, minLongitude: 106, maxLongitude: 108 },
};

/** What the final revision of each alert must say (position fields left out: they depend on the interleaving). */
export interface ExpectedAlert {
  alert_id: string;
  device_id: string;
  type: 'sensor_anomaly' | 'outside_geofence' | 'inactive';
  metric: string | null;
  status: 'active' | 'cleared';
  severity: 'warning' | 'critical';
  opened_at: number;
  cleared_at: number | null;
  updated_at: number;
  readings: number;
  worst_value: number | null;
  revision: number;
}

const outsideBy = (v: number, min: number, max: number) => (v < min ? min - v : v > max ? v - max : 0);

function groupByDevice<T extends { device_id: string }>(records: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of records) {
    const list = out.get(r.device_id) ?? [];
    list.push(r);
    out.set(r.device_id, list);
  }
  return out;
}

/**
 * The episodes of every device. `now`: how far the component's clock has come; a device whose last fix is at
 * least `inactiveAfterMs` before it has an active `inactive` episode (Infinity: every device went silent).
 */
export function expectedAlerts(fixes: readonly Fix[], readings: readonly Reading[], rules: Rules, now: number) {
  const alerts: ExpectedAlert[] = [];
  const id = (device: string, type: string, metric: string | null, opened: number) =>
    `${device}/${type}/${metric ?? '-'}/${opened}`;

  for (const [device, list] of groupByDevice(readings)) {
    for (const metric of ['sound', 'temperature', 'altitude'] as const) {
      const { min, max } = rules.ranges[metric];
      const width = max - min;
      let run: { opened: number; last: number; count: number; worst: number; worstBy: number } | null = null;
      const close = (clearedAt: number | null) => {
        if (!run) return;
        const severe = run.worstBy > rules.criticalDeviation * width;
        alerts.push(runEpisode(device, 'sensor_anomaly', metric, run, run.worst, severe, clearedAt));
        run = null;
      };
      for (const r of list) {
        const value = r[metric];
        if (value === null) continue;
        const by = outsideBy(value, min, max);
        if (by > 0) {
          if (!run) run = { opened: r.event_ts, last: r.event_ts, count: 1, worst: value, worstBy: by };
          else {
            run.count++;
            run.last = Math.max(run.last, r.event_ts);
            if (by > run.worstBy) Object.assign(run, { worst: value, worstBy: by });
          }
        } else if (run && r.event_ts >= run.last + rules.clearAfterMs) close(r.event_ts);
      }
      close(null);
    }
  }

  const box = rules.box;
  const boxWidth = Math.min(box.maxLatitude - box.minLatitude, box.maxLongitude - box.minLongitude);
  for (const [device, list] of groupByDevice(fixes)) {
    let run: { opened: number; last: number; count: number; worst: number } | null = null;
    for (const [i, f] of list.entries()) {
      const by = Math.max(
        outsideBy(f.latitude, box.minLatitude, box.maxLatitude),
        outsideBy(f.longitude, box.minLongitude, box.maxLongitude),
      );
      if (by > 0) {
        if (!run) run = { opened: f.event_ts, last: f.event_ts, count: 1, worst: by };
        else Object.assign(run, { last: f.event_ts, count: run.count + 1, worst: Math.max(run.worst, by) });
      } else if (run) {
        alerts.push(geofence(device, run, f.event_ts));
        run = null;
      }
      const previous = list[i - 1];
      if (previous && f.event_ts - previous.event_ts >= rules.inactiveAfterMs) {
        alerts.push(silence(device, previous.event_ts + rules.inactiveAfterMs, f.event_ts));
      }
    }
    if (run) alerts.push(geofence(device, run, null));
    const last = list.at(-1);
    if (last && now >= last.event_ts + rules.inactiveAfterMs) {
      alerts.push(silence(device, last.event_ts + rules.inactiveAfterMs, null));
    }
  }

  function geofence(
    device: string,
    run: { opened: number; last: number; count: number; worst: number },
    clearedAt: number | null,
  ): ExpectedAlert {
    const severe = run.worst > rules.criticalDeviation * boxWidth;
    return runEpisode(device, 'outside_geofence', null, run, run.worst, severe, clearedAt);
  }

  /** An episode made of a run of readings (or fixes): one revision when opened, one per further one, one to clear. */
  function runEpisode(
    device: string,
    type: 'sensor_anomaly' | 'outside_geofence',
    metric: string | null,
    run: { opened: number; last: number; count: number },
    worst: number,
    severe: boolean,
    clearedAt: number | null,
  ): ExpectedAlert {
    return {
      alert_id: id(device, type, metric, run.opened),
      device_id: device,
      type,
      metric,
      status: clearedAt === null ? 'active' : 'cleared',
      severity: severe ? 'critical' : 'warning',
      opened_at: run.opened,
      cleared_at: clearedAt,
      updated_at: clearedAt ?? run.last,
      readings: run.count,
      worst_value: worst,
      revision: run.count + (clearedAt === null ? 0 : 1),
    };
  }

  function silence(device: string, opened: number, clearedAt: number | null): ExpectedAlert {
    return {
      alert_id: id(device, 'inactive', null, opened),
      device_id: device,
      type: 'inactive',
      metric: null,
      status: clearedAt === null ? 'active' : 'cleared',
      severity: 'warning',
      opened_at: opened,
      cleared_at: clearedAt,
      updated_at: clearedAt ?? opened,
      readings: 0,
      worst_value: null,
      revision: clearedAt === null ? 1 : 2,
    };
  }

  return alerts.sort((a, b) => (a.alert_id < b.alert_id ? -1 : a.alert_id > b.alert_id ? 1 : 0));
}

/**
 * The scripted part of a run, for demonstrating the alerts with `POST /simulate` alone: devices that go silent
 * (send neither fixes nor readings for a while: `inactive`) and devices that wander out of the operational box and
 * back (`outside_geofence`). Sensor anomalies need no script: every device has them at its anomaly rates.
 *
 * Devices are assigned in the run's device order: the first `silent_devices` go silent, the next `wander_devices`
 * wander, the others behave normally. Times count from the start of the run. A silent device keeps moving and
 * measuring (its models advance at every tick, so it resumes where the same seed puts it); it only stops
 * transmitting. A wandering device's fixes are its walk plus the offset of `core/wander.ts`. Neither draws random
 * numbers, so the seed replays a scripted run exactly, and devices outside the script are unaffected by it.
 */
import { z } from 'zod';
import { WANDER_LEG_FIXES, type WanderPhase, type WanderPlan, wanderPhase } from '../core/wander.js';
import { AppError } from '../errors.js';

const MAX_MS = 31_536_000_000;
const count = (what: string) => z.number().int().min(0).max(100_000).optional().describe(`${what} (default 0)`);
const after = (what: string) =>
  z.number().int().min(0).max(MAX_MS).optional().describe(`${what}, ms after the start of the run (default 10000)`);
const lasting = (what: string) =>
  z.number().int().min(1).max(MAX_MS).optional().describe(`${what} (default: until the run ends)`);

/** The request fields of the script (part of `SimulationRequestSchema`). */
export const scenarioRequestFields = {
  silent_devices: count('How many devices go silent: the first N of the run'),
  silent_after_ms: after('When the silent devices stop sending locations and statuses'),
  silent_for_ms: lasting('How long they stay silent before they resume'),
  wander_devices: count('How many devices wander out of lat 8–10 / lon 106–108: the N after the silent ones'),
  wander_after_ms: after('When the wandering devices start walking out'),
  wander_for_ms: lasting(
    `How long after wander_after_ms they start walking back; at least ${WANDER_LEG_FIXES + 1} location intervals`,
  ),
};

type ScenarioRequest = { [K in keyof typeof scenarioRequestFields]?: number | undefined } & { duration_ms?: number };

/** When silent/wandering devices start, if no time is given. */
export const DEFAULT_SCENARIO_AFTER_MS = 10_000;

const KINDS = [
  { kind: 'silent', devices: 'silent_devices', after: 'silent_after_ms', lasting: 'silent_for_ms' },
  { kind: 'wander', devices: 'wander_devices', after: 'wander_after_ms', lasting: 'wander_for_ms' },
] as const;

/** The checks the request alone decides (the schema's `superRefine`); the others wait for `resolveScenario`. */
export function refineScenarioRequest(req: ScenarioRequest, ctx: z.RefinementCtx): void {
  for (const k of KINDS) {
    const enabled = (req[k.devices] ?? 0) > 0;
    for (const field of [k.after, k.lasting]) {
      if (req[field] !== undefined && !enabled) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} needs ${k.devices} ≥ 1` });
      }
    }
    const start = req[k.after];
    if (enabled && start !== undefined && req.duration_ms !== undefined && start >= req.duration_ms) {
      ctx.addIssue({
        code: 'custom',
        path: [k.after],
        message: `${k.after} (${start}) must be less than duration_ms (${req.duration_ms})`,
      });
    }
  }
}

/** One scripted behaviour: which devices, from when, for how long (`undefined`: until the run ends). */
export interface DeviceEpisode {
  devices: string[];
  afterMs: number;
  forMs: number | undefined;
}

export interface ScenarioConfig {
  silent: DeviceEpisode | undefined;
  wander: DeviceEpisode | undefined;
}

/** A 400 naming the field, with the details the schema's errors have. */
function invalid(field: string, message: string): AppError {
  return new AppError('BAD_REQUEST', `${field}: ${message}`, {
    details: [{ field, message }],
  });
}

/** Resolves the script against the run's devices and location interval; throws `BAD_REQUEST` naming the field. */
export function resolveScenario(
  req: ScenarioRequest,
  run: { devices: string[]; locationIntervalMs: number },
): ScenarioConfig {
  const silentCount = req.silent_devices ?? 0;
  const wanderCount = req.wander_devices ?? 0;
  const n = run.devices.length;
  if (silentCount > n) throw invalid('silent_devices', `${silentCount} exceeds the run's ${n} devices`);
  if (silentCount + wanderCount > n) {
    throw invalid(
      'wander_devices',
      `${wanderCount} after ${silentCount} silent devices exceeds the run's ${n} devices (they do not overlap)`,
    );
  }
  const minWanderMs = (WANDER_LEG_FIXES + 1) * run.locationIntervalMs;
  if (wanderCount > 0 && req.wander_for_ms !== undefined && req.wander_for_ms < minWanderMs) {
    throw invalid(
      'wander_for_ms',
      `at least ${minWanderMs}: ${WANDER_LEG_FIXES} location intervals to walk out, then one fix outside`,
    );
  }
  const episode = (devices: string[], afterMs: number | undefined, forMs: number | undefined) =>
    devices.length === 0 ? undefined : { devices, afterMs: afterMs ?? DEFAULT_SCENARIO_AFTER_MS, forMs };
  return {
    silent: episode(run.devices.slice(0, silentCount), req.silent_after_ms, req.silent_for_ms),
    wander: episode(run.devices.slice(silentCount, silentCount + wanderCount), req.wander_after_ms, req.wander_for_ms),
  };
}

/** The script in absolute time (epoch ms) for a run started at `startedAt`. */
export interface ScenarioSchedule {
  silent: { devices: string[]; from: number; until: number | undefined } | undefined;
  wander: ({ devices: string[] } & Pick<WanderPlan, 'from' | 'until' | 'legMs'>) | undefined;
}

export function scheduleScenario(
  config: ScenarioConfig & { locationIntervalMs: number },
  startedAt: number,
): ScenarioSchedule {
  const window = (e: DeviceEpisode) => ({
    devices: e.devices,
    from: startedAt + e.afterMs,
    until: e.forMs === undefined ? undefined : startedAt + e.afterMs + e.forMs,
  });
  return {
    silent: config.silent && window(config.silent),
    wander: config.wander && { ...window(config.wander), legMs: WANDER_LEG_FIXES * config.locationIntervalMs },
  };
}

/** Whether a device of the silent group sends nothing at `ts`: from ≤ ts < until. */
export function isSilentAt(window: { from: number; until: number | undefined }, ts: number): boolean {
  return ts >= window.from && (window.until === undefined || ts < window.until);
}

/** The script as `config` reports it: the resolved request fields. */
export function describeScenario(config: ScenarioConfig) {
  return {
    silent_devices: config.silent?.devices.length ?? 0,
    silent_after_ms: config.silent?.afterMs ?? null,
    silent_for_ms: config.silent?.forMs ?? null,
    wander_devices: config.wander?.devices.length ?? 0,
    wander_after_ms: config.wander?.afterMs ?? null,
    wander_for_ms: config.wander?.forMs ?? null,
  };
}

const iso = z.string().describe('ISO 8601');

export const ScenarioReportSchema = z
  .object({
    silent: z
      .object({
        devices: z.array(z.string()),
        from: iso.describe('They send nothing from here (ISO 8601)'),
        until: iso.nullable().describe('They resume here; null: silent until the run ends'),
        state: z.enum(['pending', 'silent', 'over']),
      })
      .nullable(),
    wander: z
      .object({
        devices: z.array(z.string()),
        from: iso.describe('They start walking out here (ISO 8601)'),
        away_from: iso.describe(
          'From here until `until` every fix lies at least 0.5° outside lat 8–10 / lon 106–108 (ISO 8601)',
        ),
        until: iso.nullable().describe('They start walking back here; null: away until the run ends'),
        back_by: iso
          .nullable()
          .describe(
            'From here their fixes are their own walk again, back inside unless the walk itself left (ISO 8601)',
          ),
        state: z.enum(['pending', 'leaving', 'away', 'returning', 'over']),
      })
      .nullable(),
  })
  .describe('Which devices are silent or wandering and when, to correlate with the alerts');
export type ScenarioReport = z.infer<typeof ScenarioReportSchema>;

const isoOf = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | undefined) => (ms === undefined ? null : isoOf(ms));

/** The script's timeline and where it stands at `now`. */
export function reportScenario(schedule: ScenarioSchedule, now: number): ScenarioReport {
  const { silent, wander } = schedule;
  const silentState = (w: NonNullable<ScenarioSchedule['silent']>) =>
    now < w.from ? 'pending' : isSilentAt(w, now) ? 'silent' : 'over';
  return {
    silent: silent
      ? {
          devices: silent.devices,
          from: isoOf(silent.from),
          until: isoOrNull(silent.until),
          state: silentState(silent),
        }
      : null,
    wander: wander
      ? {
          devices: wander.devices,
          from: isoOf(wander.from),
          away_from: isoOf(wander.from + wander.legMs),
          until: isoOrNull(wander.until),
          back_by: isoOrNull(wander.until === undefined ? undefined : wander.until + wander.legMs),
          state: wanderPhase(wander, now) satisfies WanderPhase,
        }
      : null,
  };
}

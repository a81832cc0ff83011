/**
 * What a simulation run is asked to do: the request schema (the JSON body of `POST /simulate`, also built by
 * the CLI), its resolution against the configured defaults, and the limit checks.
 *
 * Field names are snake_case like the events and the error envelope. Every field is optional: `{}` runs the
 * specification's defaults (3 devices `dev-1..dev-3`, one location fix every 2 s and one status reading
 * every 0.5 s per device, no device silent or wandering: `scenario.ts`).
 */
import { z } from 'zod';
import { DEVICE_ID_PATTERN, DEVICE_ID_RULE } from '../core/device-id.js';
import { type Boundary, DEFAULT_SIGMA, type Position, SPEC_START } from '../core/movement.js';
import { DEFAULT_SENSORS, SENSOR_NAMES, type SensorSpec, type SensorSpecs } from '../core/sensors.js';
import { AppError } from '../errors.js';
import {
  describeScenario,
  refineScenarioRequest,
  resolveScenario,
  type ScenarioConfig,
  scenarioRequestFields,
} from './scenario.js';

const SensorOverrideSchema = z
  .object({
    min: z.number().finite().optional().describe('Lower end of the normal range'),
    max: z.number().finite().optional().describe('Upper end of the normal range'),
    anomaly_rate: z.number().min(0).max(1).optional().describe('Probability of an out-of-range reading'),
    deviation: z
      .number()
      .gt(0)
      .max(10)
      .optional()
      .describe('Largest distance of an anomaly from the range, as a fraction of the range width'),
  })
  .strict();

const deviceId = z
  .string()
  .regex(DEVICE_ID_PATTERN, `expected ${DEVICE_ID_RULE}`)
  .describe('Device id, also the Kafka key');

export const SimulationRequestSchema = z
  .object({
    devices: z.array(deviceId).min(1).max(100_000).optional().describe('Explicit device ids'),
    device_count: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe('Number of devices named dev-1..dev-N (instead of `devices`)'),
    location_interval_ms: z.number().int().min(1).max(3_600_000).optional().describe('Per-device location period'),
    status_interval_ms: z.number().int().min(1).max(3_600_000).optional().describe('Per-device status period'),
    sigma: z.number().gt(0).max(1).optional().describe('Brownian σ in degrees per √second'),
    boundary: z.enum(['none', 'reflect']).optional().describe('`reflect` keeps walks inside lat 8–10 / lon 106–108'),
    start: z
      .object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) })
      .strict()
      .optional()
      .describe('Starting point of every walk'),
    sensors: z
      .object({
        sound: SensorOverrideSchema.optional(),
        temperature: SensorOverrideSchema.optional(),
        altitude: SensorOverrideSchema.optional(),
      })
      .strict()
      .optional()
      .describe('Per-sensor overrides of the specification parameters'),
    seed: z
      .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(128)])
      .optional()
      .describe('Seed for replayable values; a random one is chosen (and reported) when absent'),
    duration_ms: z.number().int().min(1).max(31_536_000_000).optional().describe('Stop after this long'),
    max_events: z.number().int().min(1).optional().describe('Stop after this many events in total'),
    ...scenarioRequestFields,
  })
  .strict()
  .superRefine((req, ctx) => {
    refineScenarioRequest(req, ctx);
    if (req.devices && req.device_count !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['device_count'], message: 'give either devices or device_count' });
    }
    if (req.devices) {
      const seen = new Set<string>();
      req.devices.forEach((id, i) => {
        if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['devices', i], message: `duplicate device ${id}` });
        seen.add(id);
      });
    }
    for (const name of SENSOR_NAMES) {
      const override = req.sensors?.[name];
      if (!override) continue;
      const min = override.min ?? DEFAULT_SENSORS[name].min;
      const max = override.max ?? DEFAULT_SENSORS[name].max;
      if (!(max > min)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sensors', name, 'max'],
          message: `max (${max}) must exceed min (${min})`,
        });
      }
    }
  });
export type SimulationRequest = z.infer<typeof SimulationRequestSchema>;

/** A fully resolved run configuration. */
export interface SimulationConfig extends ScenarioConfig {
  devices: string[];
  locationIntervalMs: number;
  statusIntervalMs: number;
  sigma: number;
  boundary: Boundary;
  start: Position;
  sensors: SensorSpecs;
  seed: string | number;
  durationMs: number | undefined;
  maxEvents: number | undefined;
}

/** Defaults for fields a request leaves out (from the application configuration). */
export interface SimulationDefaults {
  deviceCount: number;
  locationIntervalMs: number;
  statusIntervalMs: number;
  sigma: number;
}

export const SPEC_DEFAULTS: SimulationDefaults = {
  deviceCount: 3,
  locationIntervalMs: 2000,
  statusIntervalMs: 500,
  sigma: DEFAULT_SIGMA,
};

export interface SimulationLimits {
  maxDevices: number;
  /** Largest aggregate rate: devices × (1000/location_interval_ms + 1000/status_interval_ms). */
  maxEventsPerSecond: number;
  /** Largest `duration_ms` a run may ask for (a run without one runs until stopped). */
  maxDurationMs?: number;
  /** Largest `max_events` a run may ask for. */
  maxEvents?: number;
}

/** `dev-1 … dev-N`, the specification's naming. */
export function deviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `dev-${i + 1}`);
}

/**
 * Fills a validated request from the defaults; `randomSeed` is used only when the request has no seed. Throws
 * `BAD_REQUEST` naming the field when the script (`silent_*`, `wander_*`) does not fit the resolved run.
 */
export function resolveSimulation(
  request: SimulationRequest,
  defaults: SimulationDefaults,
  randomSeed: () => number,
): SimulationConfig {
  const sensors = Object.fromEntries(
    SENSOR_NAMES.map((name) => {
      const o = request.sensors?.[name] ?? {};
      const d = DEFAULT_SENSORS[name];
      const spec: SensorSpec = {
        min: o.min ?? d.min,
        max: o.max ?? d.max,
        anomalyRate: o.anomaly_rate ?? d.anomalyRate,
        deviation: o.deviation ?? d.deviation,
      };
      return [name, spec];
    }),
  ) as SensorSpecs;
  const devices = request.devices ?? deviceIds(request.device_count ?? defaults.deviceCount);
  const locationIntervalMs = request.location_interval_ms ?? defaults.locationIntervalMs;
  return {
    devices,
    locationIntervalMs,
    statusIntervalMs: request.status_interval_ms ?? defaults.statusIntervalMs,
    sigma: request.sigma ?? defaults.sigma,
    boundary: request.boundary ?? 'none',
    start: request.start ?? SPEC_START,
    sensors,
    seed: request.seed ?? randomSeed(),
    durationMs: request.duration_ms,
    maxEvents: request.max_events,
    ...resolveScenario(request, { devices, locationIntervalMs }),
  };
}

/** The aggregate event rate a configuration asks for, events per second. */
export function requestedRate(config: Pick<SimulationConfig, 'devices' | 'locationIntervalMs' | 'statusIntervalMs'>) {
  return config.devices.length * (1000 / config.locationIntervalMs + 1000 / config.statusIntervalMs);
}

/** Throws `UNPROCESSABLE` (HTTP 422) naming the limit a configuration exceeds. */
export function checkLimits(config: SimulationConfig, limits: SimulationLimits): void {
  const cap = (field: string, requested: number | undefined, limit: number | undefined, variable: string) => {
    if (requested === undefined || limit === undefined || requested <= limit) return;
    throw new AppError('UNPROCESSABLE', `${field}: ${requested} exceeds the limit of ${limit} (${variable})`, {
      details: { field, limit, requested },
    });
  };
  cap('duration_ms', config.durationMs, limits.maxDurationMs, 'SIMULATOR_MAX_DURATION_MS');
  cap('max_events', config.maxEvents, limits.maxEvents, 'SIMULATOR_MAX_EVENTS');
  if (config.devices.length > limits.maxDevices) {
    throw new AppError(
      'UNPROCESSABLE',
      `devices: ${config.devices.length} devices exceed the limit of ${limits.maxDevices} (SIMULATOR_MAX_DEVICES)`,
      { details: { field: 'devices', limit: limits.maxDevices, requested: config.devices.length } },
    );
  }
  const rate = requestedRate(config);
  if (rate > limits.maxEventsPerSecond) {
    throw new AppError(
      'UNPROCESSABLE',
      `event rate: ${rate.toFixed(1)} events/s exceed the limit of ${limits.maxEventsPerSecond} ` +
        '(SIMULATOR_MAX_EVENTS_PER_SECOND); use fewer devices or longer intervals',
      {
        details: {
          field: 'location_interval_ms, status_interval_ms',
          limit: limits.maxEventsPerSecond,
          requested: rate,
        },
      },
    );
  }
}

/** The configuration as the API reports it (snake_case, like the request). */
export function describeSimulation(config: SimulationConfig) {
  return {
    devices: config.devices,
    location_interval_ms: config.locationIntervalMs,
    status_interval_ms: config.statusIntervalMs,
    sigma: config.sigma,
    boundary: config.boundary,
    start: config.start,
    sensors: Object.fromEntries(
      SENSOR_NAMES.map((name) => {
        const s = config.sensors[name];
        return [name, { min: s.min, max: s.max, anomaly_rate: s.anomalyRate, deviation: s.deviation }];
      }),
    ) as Record<(typeof SENSOR_NAMES)[number], { min: number; max: number; anomaly_rate: number; deviation: number }>,
    seed: config.seed,
    duration_ms: config.durationMs ?? null,
    max_events: config.maxEvents ?? null,
    ...describeScenario(config),
    requested_events_per_second: requestedRate(config),
  };
}

/**
 * The status report of the simulator controller (`GET /simulate`): state, configuration, per-topic counts,
 * measured rates, the script's timeline (silent and wandering devices) and errors. One zod schema, used for the
 * OpenAPI document and as the TypeScript type.
 */
import { z } from 'zod';
import { ScenarioReportSchema } from './scenario.js';

const SensorParamsSchema = z.object({
  min: z.number(),
  max: z.number(),
  anomaly_rate: z.number(),
  deviation: z.number(),
});

export const SimulationConfigReportSchema = z.object({
  devices: z.array(z.string()),
  location_interval_ms: z.number().int(),
  status_interval_ms: z.number().int(),
  sigma: z.number().describe('Brownian σ, degrees per √second'),
  boundary: z.enum(['none', 'reflect']),
  start: z.object({ latitude: z.number(), longitude: z.number() }),
  sensors: z.object({ sound: SensorParamsSchema, temperature: SensorParamsSchema, altitude: SensorParamsSchema }),
  seed: z.union([z.number(), z.string()]).describe('Replays the same values when posted again'),
  duration_ms: z.number().int().nullable(),
  max_events: z.number().int().nullable(),
  silent_devices: z.number().int(),
  silent_after_ms: z.number().int().nullable().describe('null without silent devices'),
  silent_for_ms: z.number().int().nullable().describe('null: silent until the run ends'),
  wander_devices: z.number().int(),
  wander_after_ms: z.number().int().nullable().describe('null without wandering devices'),
  wander_for_ms: z.number().int().nullable().describe('null: away until the run ends'),
  requested_events_per_second: z.number(),
});

export const TopicReportSchema = z.object({
  topic: z.string(),
  generated: z.number().int().describe('Events handed to the producer'),
  sent: z.number().int().describe('Events acknowledged by the broker (acks=all)'),
  failed: z.number().int().describe('Events in failed send attempts (each failed batch is retried)'),
  abandoned: z.number().int().describe('Events still unsent when the run stopped (broker unreachable)'),
  skipped_backpressure: z.number().int().describe('Ticks not published because the producer queue was full'),
  skipped_late: z.number().int().describe('Ticks skipped because the scheduler fell behind'),
  skipped_silent: z.number().int().describe('Ticks not published because their device was silent'),
  events_per_second: z.number().describe('sent / elapsed seconds'),
  events_per_second_per_device: z.number(),
});

export const SimulationStatusSchema = z.object({
  state: z
    .enum(['idle', 'running', 'stopping', 'stopped', 'completed'])
    .describe('idle: no run yet; stopped: by DELETE; completed: duration or event budget used up'),
  run_id: z.string().nullable(),
  started_at: z.string().nullable().describe('ISO 8601'),
  stopped_at: z.string().nullable().describe('ISO 8601'),
  elapsed_ms: z.number().int(),
  config: SimulationConfigReportSchema.nullable(),
  topics: z.object({ location: TopicReportSchema, status: TopicReportSchema }).nullable(),
  scenario: ScenarioReportSchema.nullable(),
  buffered: z.number().int().describe('Events queued or in flight right now'),
  errors: z.object({
    failed_sends: z.number().int().describe('Failed send attempts'),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable().describe('ISO 8601'),
  }),
});
export type SimulationStatus = z.infer<typeof SimulationStatusSchema>;
export type TopicReport = z.infer<typeof TopicReportSchema>;

export const idleStatus: SimulationStatus = {
  state: 'idle',
  run_id: null,
  started_at: null,
  stopped_at: null,
  elapsed_ms: 0,
  config: null,
  topics: null,
  scenario: null,
  buffered: 0,
  errors: { failed_sends: 0, last_error: null, last_error_at: null },
};

/**
 * The source records as producers write them, as the specification's `CREATE STREAM` statements declare them: JSON
 * values on `device_location` and `device_status`, keyed by `device_id`, with `event_ts` (epoch ms) as event time.
 * (What the processor decodes from them is `LocationEvent`/`StatusEvent` in `decode.ts`.)
 */
import { z } from 'zod';

const epochMs = z.number().int().nonnegative().describe('Event time, epoch milliseconds');

export const LocationRecordSchema = z.object({
  id: z.string().min(1).describe('Unique event id (UUIDv7)'),
  device_id: z.string().min(1).describe('Device reference, also the Kafka key'),
  latitude: z.number().finite().describe('Decimal degrees'),
  longitude: z.number().finite().describe('Decimal degrees'),
  event_ts: epochMs,
});
export type LocationRecord = z.infer<typeof LocationRecordSchema>;

export const StatusRecordSchema = z.object({
  id: z.string().min(1).describe('Unique event id (UUIDv7)'),
  device_id: z.string().min(1).describe('Device reference, also the Kafka key'),
  sound: z.number().finite().describe('Sound level'),
  temperature: z.number().finite().describe('Temperature'),
  altitude: z.number().finite().describe('Altitude'),
  event_ts: epochMs,
});
export type StatusRecord = z.infer<typeof StatusRecordSchema>;

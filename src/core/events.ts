/**
 * The source events, as the specification's `CREATE STREAM` statements declare them: JSON values on
 * `device_location` and `device_status`, keyed by `device_id`, with `event_ts` (epoch ms) as event time.
 */
import { z } from 'zod';

const epochMs = z.number().int().nonnegative().describe('Event time, epoch milliseconds');

export const LocationEventSchema = z.object({
  id: z.string().min(1).describe('Unique event id (UUIDv7)'),
  device_id: z.string().min(1).describe('Device reference, also the Kafka key'),
  latitude: z.number().finite().describe('Decimal degrees'),
  longitude: z.number().finite().describe('Decimal degrees'),
  event_ts: epochMs,
});
export type LocationEvent = z.infer<typeof LocationEventSchema>;

export const StatusEventSchema = z.object({
  id: z.string().min(1).describe('Unique event id (UUIDv7)'),
  device_id: z.string().min(1).describe('Device reference, also the Kafka key'),
  sound: z.number().finite().describe('Sound level'),
  temperature: z.number().finite().describe('Temperature'),
  altitude: z.number().finite().describe('Altitude'),
  event_ts: epochMs,
});
export type StatusEvent = z.infer<typeof StatusEventSchema>;

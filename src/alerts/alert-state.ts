/**
 * The alert detector's per-device state in its changelog (`telemetry_alert_state`, compacted, keyed by device id):
 * written at each flush for the devices that changed, read back whole at a restart or rebalance. A device the
 * detector forgot (`alert-detector.ts`, bounded state) is deleted with a tombstone.
 */
import type { Consumer } from '@platformatic/kafka';
import { z } from 'zod';
import type { DeviceAlertState } from '../core/alerts/alert-detector.js';
import { AlertRecordSchema } from '../core/alerts/alert-record.js';
import { readWholePartition } from '../processor/fetcher.js';
import { DEFAULT_FETCH_LIMITS } from '../processor/processor-options.js';

const EpisodeSchema = z.object({
  record: AlertRecordSchema,
  lastAnomalyAt: z.number(),
  worstDistance: z.number(),
});

const DeviceStateSchema = z.object({
  deviceId: z.string().min(1),
  lastFix: z.object({ ts: z.number(), latitude: z.number(), longitude: z.number() }).nullable(),
  sensors: z.object({
    sound: EpisodeSchema.optional(),
    temperature: EpisodeSchema.optional(),
    altitude: EpisodeSchema.optional(),
  }),
  geofence: EpisodeSchema.nullable(),
  inactive: EpisodeSchema.nullable(),
  applied: z.object({ location: z.number().int(), status: z.number().int() }),
  lastSeen: z.number().optional(),
});

/** The latest state of every device of one changelog partition; records that do not decode are skipped. */
export async function readDeviceStates(
  fetcher: Consumer,
  topic: string,
  partition: number,
): Promise<DeviceAlertState[]> {
  const latest = new Map<string, DeviceAlertState>();
  const limits = { ...DEFAULT_FETCH_LIMITS, partitionMaxBytes: 1024 * 1024 };
  for (const r of await readWholePartition(fetcher, topic, partition, limits)) {
    if (!r.key) continue;
    const key = r.key.toString('utf8');
    if (!r.value || r.value.length === 0) {
      latest.delete(key);
      continue;
    }
    try {
      const parsed = DeviceStateSchema.safeParse(JSON.parse(r.value.toString('utf8')));
      if (parsed.success && parsed.data.deviceId === key) latest.set(key, parsed.data as DeviceAlertState);
    } catch {
      // not JSON: not ours
    }
  }
  return [...latest.values()];
}

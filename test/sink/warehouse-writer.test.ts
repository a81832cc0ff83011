import { beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/sink/migrate.js';
import { createWarehouseWriter } from '../../src/sink/warehouse-writer.js';
import { createTestDatabase } from '../helpers/db.js';
import {
  alertRow,
  DEVICE_SELECT,
  deviceRecord,
  deviceRow,
  WINDOW_SELECT,
  windowRecord,
  windowRow,
} from './fixtures.js';

const { sql, schema } = await createTestDatabase();
await migrate(sql, { schema });

const dump = async () => ({
  windows: await sql.unsafe(`select ${WINDOW_SELECT}, kafka_partition, kafka_offset from device_winagg_status_per2s
    order by id`),
  devices: await sql.unsafe(`select ${DEVICE_SELECT}, kafka_partition, kafka_offset from device_winagg_status_perdevice
    order by device_id`),
  alerts: await sql`select * from device_alerts order by alert_id`,
});

beforeEach(async () => {
  await sql`truncate device_winagg_status_per2s, device_winagg_status_perdevice, device_alerts`;
});

describe.each(['unnest', 'copy'] as const)('warehouse writer (%s)', (method) => {
  const writer = createWarehouseWriter(sql, { schema, method });

  it('leaves the same table when the same batch is applied twice', async () => {
    const windows = [
      windowRow(windowRecord('d1', 0, 1), 0, 10n),
      windowRow(windowRecord('d1', 0, 2), 0, 11n),
      windowRow(windowRecord('d1', 2000, 1), 0, 12n),
      windowRow(windowRecord('d2', 0, 3), 1, 5n),
    ];
    const devices = [deviceRow('d1', deviceRecord(1), 0, 3n), deviceRow('d1', deviceRecord(2, false), 0, 4n)];
    const first = await writer.write(windows, devices);
    expect(first).toEqual({ windowRows: 3, deviceRows: 1, alertRows: 0 });
    const after = await dump();
    const second = await writer.write(windows, devices);
    expect(second).toEqual({ windowRows: 0, deviceRows: 0, alertRows: 0 });
    expect(await dump()).toEqual(after);
    expect(after.windows.map((w) => [w['id'], w['event_count']])).toEqual([
      ['d1_0_2000', 2],
      ['d1_2000_4000', 1],
      ['d2_0_2000', 3],
    ]);
    // The newest device version wins inside one batch, nulls included (the record carries them).
    expect(after.devices[0]?.['event_ts']).toBe(1_700_000_000_002);
    expect(after.devices[0]?.['temperature']).toBeNull();
  });

  it('ignores an older window update delivered after a newer one, even at a higher offset', async () => {
    await writer.write([windowRow(windowRecord('d1', 0, 5), 0, 100n)], []);
    const newer = await dump();
    // A restarted processor replays and re-emits a partial aggregate of the same window at a later offset.
    const result = await writer.write([windowRow(windowRecord('d1', 0, 3), 0, 250n)], []);
    expect(result.windowRows).toBe(0);
    expect(await dump()).toEqual(newer);
    // The same count re-emitted later with other values (different interleaving) replaces it.
    await writer.write([windowRow(windowRecord('d1', 0, 5, 0.5), 0, 260n)], []);
    expect((await dump()).windows[0]?.['kafka_offset']).toBe(260);
  });

  it('ignores an older device update delivered after a newer one', async () => {
    await writer.write([], [deviceRow('d1', deviceRecord(9), 2, 40n)]);
    const newer = await dump();
    const result = await writer.write([], [deviceRow('d1', deviceRecord(5), 2, 39n)]);
    expect(result.deviceRows).toBe(0);
    expect(await dump()).toEqual(newer);
  });

  it('writes windows and devices of one batch atomically', async () => {
    const bad = { ...windowRow(windowRecord('d1', 0, 1)), window_end: -1 };
    await expect(writer.write([bad], [deviceRow('d9', deviceRecord(1))])).rejects.toThrow();
    expect(await dump()).toEqual({ windows: [], devices: [], alerts: [] });
  });

  it('keeps the highest revision of an alert, whatever order the revisions arrive in', async () => {
    // Three revisions of one episode, the cleared one (3) delivered first, then the older two in one batch.
    expect(await writer.write([], [], [alertRow('d1', 3, true, 0, 30n)])).toMatchObject({ alertRows: 1 });
    expect(await writer.write([], [], [alertRow('d1', 1, false, 0, 40n), alertRow('d1', 2, false, 0, 41n)])).toEqual({
      windowRows: 0,
      deviceRows: 0,
      alertRows: 0,
    });
    const [stored] = (await dump()).alerts;
    expect(stored).toMatchObject({ status: 'cleared', revision: 3, readings: 2, cleared_at: 1_700_000_009_000 });
    expect((stored!['cleared_at_time'] as Date).toISOString()).toBe('2023-11-14T22:13:29.000Z');
    // Inside one batch the highest revision wins too, and another device's alert is its own row.
    await writer.write([], [], [alertRow('d2', 2, false, 1, 7n), alertRow('d2', 1, false, 1, 8n)]);
    expect((await dump()).alerts.map((a) => [a['device_id'], a['revision'], a['kafka_offset']])).toEqual([
      ['d1', 3, 30],
      ['d2', 2, 7],
    ]);
  });

  it('keeps doubles, large epoch values, nulls and awkward text exactly', async () => {
    const record = { ...windowRecord('dev-é\t\\x', 1_799_999_998_000, 7), LATITUDE: 9.123456789012344 };
    await writer.write(
      [windowRow(record, 0, 9_007_199_254_740_000n)],
      [deviceRow('dev-é\n\\N', deviceRecord(3, false))],
    );
    const { windows, devices } = await dump();
    expect(windows[0]).toMatchObject({ id: record.ID, latitude: 9.123456789012344, window_start: 1_799_999_998_000 });
    expect(windows[0]?.['kafka_offset']).toBe(9_007_199_254_740_000);
    expect(devices[0]).toMatchObject({ device_id: 'dev-é\n\\N', temperature: null, sound: null });
    const [readable] = await sql`select window_start_at from device_winagg_status_per2s`;
    expect((readable!['window_start_at'] as Date).toISOString()).toBe('2027-01-15T07:59:58.000Z');
  });
});

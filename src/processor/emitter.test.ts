import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeviceLatestRecord, decodeWindowedKey, type WindowAggregateRecord } from '../core/results.js';
import { PartitionTopology } from '../core/topology.js';
import { flushSize, OutputBuffer, type OutputFlush } from './emitter.js';
import { type Message, packedMessage, plainMessage, transferList } from './packed-outputs.js';

/** A flush as producer messages, in write order (what the output thread sends). */
function flushMessages(flush: OutputFlush): Message[] {
  return [
    ...flush.records.map(plainMessage),
    ...Array.from({ length: flush.packed.count }, (_, i) => packedMessage(flush.packed, i)),
  ];
}

const topics = { joinEvents: 'j', per2s: 'w', perDevice: 'd', deadLetters: 'x' };

describe('JOIN_EVENTS values', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 12 });
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  const reading = fc.option(finite, { nil: null });

  it('are byte-identical to JSON.stringify of the row, also for awkward strings and numbers', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: text,
          latitude: fc.double({ min: 8, max: 10, noNaN: true }),
          longitude: fc.double({ min: 106, max: 108, noNaN: true }),
        }),
        fc.array(
          fc.record({ id: fc.option(text, { nil: null }), sound: reading, temperature: reading, altitude: reading }),
          { maxLength: 3 },
        ),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (l, statuses, eventTs) => {
          const buffer = new OutputBuffer('coalesce', topics);
          const out = buffer.forPartition(0);
          const rows: string[] = [];
          const topology = new PartitionTopology(
            { windowGraceMs: 1e12, joinRetentionMs: 1e12 },
            {
              ...out,
              joinRow: (deviceId, ts, row, location, status) => {
                rows.push(JSON.stringify(row));
                out.joinRow(deviceId, ts, row, location, status);
              },
            },
          );
          // Statuses first, then the location joins them all; then a status joins the stored location.
          for (const [i, s] of statuses.entries()) {
            topology.processStatus({ ...s, deviceId: 'dé"v', eventTs: eventTs + i });
          }
          topology.processLocation({ ...l, deviceId: 'dé"v', eventTs });
          topology.processStatus({
            id: null,
            deviceId: 'dé"v',
            sound: 1e21,
            temperature: -0,
            altitude: 5e-324,
            eventTs,
          });
          const values = flushMessages(buffer.drain())
            .filter((m) => m.topic === 'j')
            .map((m) => m.value?.toString());
          expect(values).toEqual(rows);
          expect(rows.length).toBe(Math.max(1, statuses.length) + 1);
        },
      ),
    );
  });
});

describe('OutputBuffer', () => {
  it('coalesces table updates per key to the latest value, keeps every stream row', () => {
    const buffer = new OutputBuffer('coalesce', topics);
    const out = buffer.forPartition(2);
    let count = 1;
    const snapshot = () => ({ EVENT_COUNT: count }) as unknown as WindowAggregateRecord;
    out.windowUpdate('dev-1', { start: 2000, end: 4000 }, 2500, snapshot);
    count = 2;
    out.windowUpdate('dev-1', { start: 2000, end: 4000 }, 2600, snapshot);
    out.deviceUpdate('dev-1', 2600, () => ({ LATITUDE: 9 }) as DeviceLatestRecord);
    const messages = flushMessages(buffer.drain());
    expect(messages).toHaveLength(2);
    const window = messages.find((m) => m.topic === 'w');
    expect(JSON.parse(window?.value?.toString() ?? '')).toEqual({ EVENT_COUNT: 2 });
    expect(window?.partition).toBe(2);
    expect(window?.timestamp).toBe(2600n);
    expect(decodeWindowedKey(window?.key as Buffer)).toEqual({ deviceId: 'dev-1', windowStart: 2000 });
    expect(buffer.size).toBe(0);
  });

  it('writes every update in order in every-update mode', () => {
    const buffer = new OutputBuffer('every-update', topics);
    const out = buffer.forPartition(0);
    let count = 1;
    const snapshot = () => ({ EVENT_COUNT: count }) as unknown as WindowAggregateRecord;
    out.windowUpdate('dev-1', { start: 0, end: 2000 }, 100, snapshot);
    count = 2;
    out.windowUpdate('dev-1', { start: 0, end: 2000 }, 200, snapshot);
    expect(flushMessages(buffer.drain()).map((m) => JSON.parse(m.value?.toString() ?? ''))).toEqual([
      { EVENT_COUNT: 1 },
      { EVENT_COUNT: 2 },
    ]);
  });

  it('builds batch messages on demand in write order: dead letters, stream rows, then coalesced tables', () => {
    const buffer = new OutputBuffer('coalesce', topics);
    const out = buffer.forPartition(1);
    const row = {
      ID: 'l-1',
      LATITUDE: 9,
      LONGITUDE: 107,
      DISTANCE: 0,
      EVENT_TS: 10,
      DI_: null,
      TEMPERATURE: null,
      SOUND: null,
      ALTITUDE: null,
    };
    // Larger than one slab, and multi-byte UTF-8.
    const location = (id: string) => ({ id, deviceId: 'dev-é', latitude: 9, longitude: 107, distance: 0, eventTs: 10 });
    const big = { ...row, ID: `é${'x'.repeat(2 * 1024 * 1024)}` };
    out.joinRow('dev-é', 10, row, location(row.ID), null);
    out.deviceUpdate('dev-é', 10, () => ({ LATITUDE: 9 }) as DeviceLatestRecord);
    out.joinRow('dev-é', 11, big, location(big.ID), null);
    buffer.deadLetter('src', 'status', 1, { offset: 5, timestamp: 7, key: null, value: Buffer.from('x') }, 'bad');
    const flush = buffer.drain();
    expect(buffer.size).toBe(0);
    expect(flushSize(flush)).toBe(4);
    // Posted to the output thread as it would be: a structured clone, with the packed memory transferred.
    const messages = flushMessages(structuredClone(flush, { transfer: transferList(flush.packed) }));
    expect(flush.packed.chunks.every((c) => c.byteLength === 0)).toBe(true);
    expect(messages.map((m) => m.topic)).toEqual(['x', 'j', 'j', 'd']);
    expect(messages.map((m) => m.partition)).toEqual([undefined, 1, 1, 1]);
    const headers = messages[0]?.headers as Map<Buffer, Buffer>;
    expect([...headers].map(([k, v]) => [k.toString(), v.toString()])).toContainEqual(['reason', 'bad']);
    expect(messages[0]?.value?.toString()).toBe('x');
    expect(messages[0]?.timestamp).toBe(7n);
    expect(messages[1]?.value?.toString()).toBe(JSON.stringify(row));
    expect(messages[2]?.value?.toString()).toBe(JSON.stringify(big));
    expect(messages[1]?.key?.toString()).toBe('dev-é');
    expect(messages[2]?.timestamp).toBe(11n);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceTable, type EvictionReason } from './device-table.js';

interface Seen {
  ts: number;
}

const table = (idleHorizonMs: number, maxDevices: number, evicted: [string, EvictionReason][] = []) =>
  new DeviceTable<Seen>({
    idleHorizonMs,
    maxDevices,
    lastSeenOf: (v) => v.ts,
    onEvict: (id, _v, reason) => evicted.push([id, reason]),
  });

describe('DeviceTable', () => {
  it('never returns a device idle at the time asked, and forgets it then', () => {
    const evicted: [string, EvictionReason][] = [];
    const t = table(1000, 10, evicted);
    t.set('a', { ts: 5000 });
    expect(t.get('a', 5999)).toEqual({ ts: 5000 });
    // Idle exactly at last-seen + horizon (the bound is inclusive, like the window grace).
    expect(t.get('a', 6000)).toBeUndefined();
    expect(t.has('a')).toBe(false);
    expect(evicted).toEqual([['a', 'idle']]);
    expect(t.evictions).toEqual({ idle: 1, cap: 0 });
  });

  it('evicts idle devices oldest first, seeing updates made to the values in place', () => {
    const t = table(1000, 10);
    const a = { ts: 1000 };
    t.set('a', a);
    t.set('b', { ts: 1500 });
    t.set('c', { ts: 2500 });
    a.ts = 3000; // an update after insertion: the heap key is stale and must be re-read
    expect(t.evictIdle(3400)).toBe(1);
    expect([...t.entries()].map(([id]) => id).sort()).toEqual(['a', 'c']);
    expect(t.oldestLastSeen()).toBe(2500);
  });

  it('caps the count by evicting the smallest (last-seen, id), which may be the device just set', () => {
    const evicted: [string, EvictionReason][] = [];
    const t = table(Number.POSITIVE_INFINITY, 2, evicted);
    t.set('b', { ts: 10 });
    t.set('a', { ts: 10 });
    t.set('c', { ts: 20 });
    expect(evicted).toEqual([['a', 'cap']]);
    t.set('d', { ts: 5 });
    expect(evicted).toEqual([
      ['a', 'cap'],
      ['d', 'cap'],
    ]);
    expect([...t.entries()].map(([id]) => id).sort()).toEqual(['b', 'c']);
  });

  it('a replaced value moves the device back; a deleted one is not counted', () => {
    const t = table(Number.POSITIVE_INFINITY, 2);
    t.set('a', { ts: 100 });
    t.set('b', { ts: 50 });
    t.set('a', { ts: 10 }); // replaced with an older last-seen
    t.set('c', { ts: 60 });
    expect([...t.entries()].map(([id]) => id).sort()).toEqual(['b', 'c']);
    expect(t.delete('b')).toBe(true);
    expect(t.evictions).toEqual({ idle: 0, cap: 1 });
  });

  // The property the processor's restore relies on: whenever idle devices are removed, the devices held that are
  // not idle are the top `max` by (last-seen, id) among the devices whose last value is not idle.
  it('holds the same devices whenever idle ones are removed, and they are the top ones by last-seen', () => {
    const op = fc.record({
      device: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      advance: fc.integer({ min: 0, max: 400 }),
      lag: fc.integer({ min: 0, max: 300 }),
      replace: fc.boolean(),
      prune: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 200 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 200, max: 2000 }),
        (ops, max, horizon) => {
          const lazy = table(horizon, max);
          const eager = table(horizon, max);
          const last = new Map<string, number>();
          let now = 0;
          for (const o of ops) {
            now += o.advance;
            const ts = now - o.lag;
            for (const t of [lazy, eager]) {
              const held = t.get(o.device, now);
              if (held && !o.replace) held.ts = Math.max(held.ts, ts);
              else t.set(o.device, { ts: held ? Math.max(held.ts, ts) : ts });
            }
            const held = lazy.peek(o.device);
            if (held) last.set(o.device, held.ts);
            else last.set(o.device, ts);
            if (o.prune) eager.evictIdle(now);
          }
          const live = (t: DeviceTable<Seen>) =>
            [...t.entries()]
              .filter(([, v]) => v.ts > now - horizon)
              .map(([id, v]) => `${id}@${v.ts}`)
              .sort();
          expect(live(eager)).toEqual(live(lazy));
          expect(lazy.size).toBeLessThanOrEqual(max);
          // Every held device's value is its last one (nothing stale survives).
          for (const [id, v] of lazy.entries()) expect(v.ts).toBe(last.get(id));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps its heap bounded when values are replaced again and again', () => {
    const t = table(Number.POSITIVE_INFINITY, 10);
    for (let i = 0; i < 100_000; i++) t.set(`d${i % 5}`, { ts: i });
    expect(t.size).toBe(5);
    expect(t.oldestLastSeen()).toBe(99_995);
  });
});

import { describe, expect, it } from 'vitest';
import { type JoinEntry, JoinSide } from './join.js';

const entry = (ts: number, seq: number): JoinEntry<string> => ({ ts, seq, event: `e${seq}` });

describe('JoinSide', () => {
  it('returns matches inside the inclusive range in timestamp order, ties in insertion order', () => {
    const side = new JoinSide<string>();
    for (const [ts, seq] of [
      [3000, 1],
      [1000, 2],
      [3000, 3],
      [5001, 4],
      [999, 5],
    ] as const) {
      side.insert('d', entry(ts, seq));
    }
    expect(side.probe('d', 1000, 5000, Number.NEGATIVE_INFINITY).map((e) => e.event)).toEqual(['e2', 'e1', 'e3']);
    expect(side.probe('other', 0, 10_000, Number.NEGATIVE_INFINITY)).toEqual([]);
  });

  it('hides expired entries and prunes them', () => {
    const side = new JoinSide<string>();
    side.insert('d', entry(1000, 1));
    side.insert('d', entry(2000, 2));
    expect(side.probe('d', 0, 5000, 1000).map((e) => e.event)).toEqual(['e2']);
    side.prune(1000);
    expect(side.size).toBe(1);
    expect(side.minSeq()).toBe(2);
    side.prune(5000);
    expect(side.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { describeState, initialState, nextState, reconnectDelay, worstStatus } from './connection.js';

describe('the SSE connection state', () => {
  it('goes connecting → live → stale for N s → live on the next event', () => {
    let s = initialState(0);
    expect(describeState(s, 0, 10_000).shown).toBe('connecting');
    s = nextState(s, { type: 'open', at: 100 });
    s = nextState(s, { type: 'message', at: 200, id: 'a-1' });
    expect(describeState(s, 5000, 10_000)).toEqual({ shown: 'live', label: 'live' });
    expect(describeState(s, 22_300, 10_000)).toEqual({ shown: 'stale', label: 'stale for 22 s' });
    s = nextState(s, { type: 'message', at: 22_500, id: 'a-2' });
    expect(describeState(s, 23_000, 10_000).shown).toBe('live');
    expect(s.lastEventId).toBe('a-2');
  });

  it('reports reconnecting from the first error until it opens again, keeping the last event id', () => {
    let s = nextState(nextState(initialState(0), { type: 'open', at: 0 }), { type: 'message', at: 10, id: 'e-7' });
    s = nextState(s, { type: 'error', at: 1000 });
    s = nextState(s, { type: 'error', at: 3000 });
    expect(describeState(s, 9000, 10_000)).toEqual({ shown: 'reconnecting', label: 'reconnecting (8 s)' });
    expect(s.failures).toBe(2);
    expect(s.lastEventId).toBe('e-7');
    s = nextState(s, { type: 'open', at: 9500 });
    expect(s.failures).toBe(0);
    // Open again: quiet time counts from the opening, not from the event before the outage.
    expect(describeState(s, 10_000, 10_000).shown).toBe('live');
    expect(describeState(s, 19_500, 10_000).label).toBe('stale for 10 s');
  });

  it('shows the worst stream and backs off up to 10 s', () => {
    expect(
      worstStatus([
        { shown: 'live', label: 'live' },
        { shown: 'reconnecting', label: 'reconnecting (1 s)' },
        { shown: 'stale', label: 'stale for 12 s' },
      ]).shown,
    ).toBe('reconnecting');
    expect([1, 2, 3, 4, 5, 9].map(reconnectDelay)).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

/**
 * The connection state of one server-sent-events stream as the page shows it, as a pure state machine:
 * `connecting` → `live` on open; `live` turns `stale` (for N s) when no event came for a while; an error makes it
 * `reconnecting` (EventSource retries by itself and sends `Last-Event-ID`; a stream the browser closed — a
 * non-200 answer — is reopened by the page after `reconnectDelay`).
 */

export type Phase = 'connecting' | 'open' | 'reconnecting';

export interface ConnectionState {
  phase: Phase;
  /** When the phase began (epoch ms). */
  since: number;
  /** The last event's time and id; kept across reconnects. */
  lastEventAt: number | undefined;
  lastEventId: string | undefined;
  /** Failed attempts since the last successful open. */
  failures: number;
}

export type ConnectionEvent =
  | { type: 'open'; at: number }
  | { type: 'message'; at: number; id: string | undefined }
  | { type: 'error'; at: number };

export function initialState(at: number): ConnectionState {
  return { phase: 'connecting', since: at, lastEventAt: undefined, lastEventId: undefined, failures: 0 };
}

export function nextState(state: ConnectionState, event: ConnectionEvent): ConnectionState {
  switch (event.type) {
    case 'open':
      return { ...state, phase: 'open', since: event.at, failures: 0 };
    case 'message':
      return {
        ...state,
        phase: 'open',
        since: state.phase === 'open' ? state.since : event.at,
        lastEventAt: event.at,
        lastEventId: event.id || state.lastEventId,
      };
    case 'error':
      return {
        ...state,
        phase: 'reconnecting',
        since: state.phase === 'reconnecting' ? state.since : event.at,
        failures: state.failures + 1,
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}

export type Shown = 'connecting' | 'live' | 'stale' | 'reconnecting';

export interface Status {
  shown: Shown;
  /** What the page prints: "live", "stale for 12 s", "reconnecting (8 s)". */
  label: string;
}

/** How the state reads at `now`: stale once open with no event for `staleAfterMs`. */
export function describeState(state: ConnectionState, now: number, staleAfterMs: number): Status {
  const seconds = (from: number) => Math.max(0, Math.floor((now - from) / 1000));
  if (state.phase === 'connecting') return { shown: 'connecting', label: 'connecting' };
  if (state.phase === 'reconnecting')
    return { shown: 'reconnecting', label: `reconnecting (${seconds(state.since)} s)` };
  const quietSince = Math.max(state.lastEventAt ?? 0, state.since);
  if (now - quietSince >= staleAfterMs) return { shown: 'stale', label: `stale for ${seconds(quietSince)} s` };
  return { shown: 'live', label: 'live' };
}

/** The worst of several streams' statuses, for the one badge in the header. */
export function worstStatus(statuses: Status[]): Status {
  const rank: Record<Shown, number> = { live: 0, stale: 1, connecting: 2, reconnecting: 3 };
  return statuses.reduce((worst, s) => (rank[s.shown] > rank[worst.shown] ? s : worst), {
    shown: 'live',
    label: 'live',
  } as Status);
}

/** Delay before the page reopens a stream the browser gave up on: 1, 2, 4, 8 s, then every 10 s. */
export function reconnectDelay(failures: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.max(0, failures - 1));
}

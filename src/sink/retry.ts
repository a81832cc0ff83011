/**
 * The sink's wakeable retry sleep (delays from `core/backoff.ts`), and the classification of PostgreSQL errors by
 * SQLSTATE (postgres.js keeps it on `PostgresError.code`; its own connection errors carry codes such as
 * `CONNECTION_CLOSED`).
 */
import { backoffDelay } from '../core/backoff.js';

export interface RetrySleeper {
  /** Waits the backoff for `attempt`; returns early when `wake()` is called (shutdown). */
  sleep(attempt: number): Promise<void>;
  wake(): void;
}

export function createRetrySleeper(options: { initialMs: number; maxMs: number; random?: () => number }): RetrySleeper {
  const random = options.random ?? Math.random;
  const waiting = new Set<() => void>();
  return {
    sleep(attempt) {
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(
          done,
          backoffDelay(attempt, { initialMs: options.initialMs, maxMs: options.maxMs, random }),
        );
        waiting.add(done);
      });
    },
    wake() {
      for (const done of [...waiting]) done();
    },
  };
}

const RETRYABLE_CLIENT_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * True when PostgreSQL refused the data itself, so that retrying the same row cannot succeed: SQLSTATE class 22
 * (data exception: a NUL in text, a value out of range), 23 (integrity constraint) and 54 (program limit
 * exceeded: an index row above the btree maximum, from an oversized key). The sink then writes the batch row by
 * row and dead-letters exactly the refused rows. Every other failure is retried until it goes away: connection
 * and server errors fix themselves, and errors of the environment (a missing table, a revoked permission) are
 * fixed by an operator; none is the record's fault, and dead-lettering would throw good rows away.
 */
export function isRecordRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * True for failures that go away by themselves: connection problems (SQLSTATE class 08, client-side socket
 * errors), server shutdown or restart (57P01–57P03), too many connections (53300), serialization failures and
 * deadlocks (40001, 40P01). Constraint violations and data errors are bugs in what we write: not retryable.
 */
export function isRetryableDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (RETRYABLE_CLIENT_CODES.has(code)) return true;
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300' ||
    code === '40001' ||
    code === '40P01'
  );
}

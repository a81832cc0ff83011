/**
 * One warehouse read within a deadline, connecting included, so that an outage answers a fast 503 naming
 * PostgreSQL rather than a request timeout: a query queued behind a connection attempt to a server that went
 * away otherwise waited out the whole request. Every failure becomes an `UnavailableError` naming `postgresql`.
 */
import type postgres from 'postgres';
import { UnavailableError } from '../errors.js';

export interface BoundedQueryOptions {
  /**
   * Absolute time (epoch ms) the query must answer by, when a read of several statements shares one deadline;
   * otherwise the query has the whole `queryTimeoutMs`.
   */
  deadline?: number;
}

export type BoundedQuery = <T extends readonly postgres.MaybeRow[]>(
  query: () => postgres.PendingQuery<T>,
  options?: BoundedQueryOptions,
) => Promise<postgres.RowList<T>>;

const TIMED_OUT = Symbol('timed out');

/** Runs queries bounded by `queryTimeoutMs` each (or by a shared deadline); the bound is what the 503 names. */
export function createBoundedQuery(queryTimeoutMs: number): BoundedQuery {
  const timedOut = (cause?: unknown) =>
    new UnavailableError('postgresql', `PostgreSQL did not answer within ${queryTimeoutMs} ms`, cause);

  return async (query, options = {}) => {
    const budgetMs = options.deadline === undefined ? queryTimeoutMs : options.deadline - Date.now();
    if (budgetMs <= 0) throw timedOut();
    const pending = query();
    let timer: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
        timer = setTimeout(() => resolve(TIMED_OUT), budgetMs);
      });
      const result = await Promise.race([pending, deadline]);
      if (result === TIMED_OUT) {
        pending.cancel();
        pending.catch(() => undefined);
        throw timedOut();
      }
      return result;
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      const code = (err as { code?: unknown }).code;
      if (code === '42P01')
        throw new UnavailableError('postgresql', 'the warehouse tables do not exist yet (migrations not applied)', err);
      if (code === '57014') throw timedOut(err);
      throw new UnavailableError('postgresql', 'PostgreSQL is unreachable or failed the query', err);
    } finally {
      clearTimeout(timer);
    }
  };
}

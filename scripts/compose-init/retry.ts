/**
 * Retrying one step of the compose init (`scripts/compose-init.ts`, `scripts/register-connectors.ts`) until a
 * deadline. The delays come from the app's one backoff (`src/core/backoff.ts`); this adds only the deadline, the
 * retryable test and the log hook. The clock and the sleep can be replaced so the unit test runs without time.
 */
import { Backoff, type BackoffOptions } from '../../src/core/backoff.js';

export interface RetryOptions {
  /** Give up after this long: the last error is rethrown inside a `RetryTimeoutError` naming the step. */
  timeoutMs: number;
  /** @default { initialMs: 500, maxMs: 5000 } (equal jitter) */
  backoff?: BackoffOptions;
  /** Errors for which another try can help; the others are rethrown at once. @default every error */
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class RetryTimeoutError extends Error {
  override name = 'RetryTimeoutError';
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function retry<T>(label: string, fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const deadline = now() + options.timeoutMs;
  const backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 5000 });
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (options.isRetryable && !options.isRetryable(err)) throw err;
      const remaining = deadline - now();
      if (remaining <= 0) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new RetryTimeoutError(
          `${label}: gave up after ${attempt} attempts in ${options.timeoutMs} ms: ${reason}`,
          { cause: err },
        );
      }
      const delayMs = Math.min(backoff.next(), remaining);
      options.onRetry?.({ attempt, delayMs, error: err });
      await sleep(delayMs);
    }
  }
}

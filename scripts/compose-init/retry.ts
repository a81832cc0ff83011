/**
 * Waiting for a dependency of the init step: retry with capped exponential backoff until a deadline.
 * The clock and the sleep are injectable so the unit tests run without real time.
 */
export interface RetryOptions {
  /** Give up after this long (the last error is rethrown, with the label). */
  timeoutMs: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Errors for which another try makes sense; the others are rethrown at once. */
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
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (options.isRetryable && !options.isRetryable(err)) throw err;
      const remaining = deadline - now();
      if (remaining <= 0) {
        throw new RetryTimeoutError(
          `${label}: gave up after ${attempt} attempts in ${options.timeoutMs} ms: ${(err as Error)?.message ?? String(err)}`,
          { cause: err },
        );
      }
      const wait = Math.min(delay, remaining);
      options.onRetry?.({ attempt, delayMs: wait, error: err });
      await sleep(wait);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

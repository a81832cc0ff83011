import { describe, expect, it } from 'vitest';
import { RetryTimeoutError, retry } from './retry.js';

/** A fake clock: sleeping advances it, so the test runs instantly and the delays are observable. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

const failTimes = (n: number) => {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls <= n) throw new Error('not yet');
    return 'ok';
  };
};

describe('retry', () => {
  it('waits the capped, doubling delays of the shared backoff until the call succeeds', async () => {
    const time = fakeTime();
    const backoff = { initialMs: 100, maxMs: 300, jitter: 'none' as const };
    const result = await retry('thing', failTimes(4), { timeoutMs: 60_000, backoff, ...time });
    expect(result).toBe('ok');
    expect(time.sleeps).toEqual([100, 200, 300, 300]);
  });

  it('draws each delay from the upper half of its ceiling with the default equal jitter', async () => {
    const time = fakeTime();
    const backoff = { initialMs: 100, maxMs: 400, random: () => 0 };
    await retry('thing', failTimes(3), { timeoutMs: 60_000, backoff, ...time });
    expect(time.sleeps).toEqual([50, 100, 200]);
  });

  it('gives up at the deadline with the label and the last error', async () => {
    const time = fakeTime();
    const failing = retry(
      'Kafka',
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 1000, backoff: { initialMs: 400, maxMs: 5000, jitter: 'none' }, ...time },
    );
    await expect(failing).rejects.toThrow(RetryTimeoutError);
    await expect(failing).rejects.toThrow(/Kafka: gave up after 3 attempts in 1000 ms: connection refused/);
    // 400, then 600 (what is left of the deadline, not the 800 of the backoff).
    expect(time.sleeps).toEqual([400, 600]);
  });

  it('rethrows a non-retryable error at once', async () => {
    const time = fakeTime();
    const failing = retry(
      'x',
      async () => {
        throw new Error('bad statement');
      },
      { timeoutMs: 1000, isRetryable: () => false, ...time },
    );
    await expect(failing).rejects.toThrow('bad statement');
    expect(time.sleeps).toEqual([]);
  });
});

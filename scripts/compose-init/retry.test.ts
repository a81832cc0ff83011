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

describe('retry', () => {
  it('retries with doubling, capped delays until the call succeeds', async () => {
    const time = fakeTime();
    let calls = 0;
    const result = await retry(
      'thing',
      async () => {
        calls += 1;
        if (calls < 5) throw new Error('not yet');
        return 'ok';
      },
      { timeoutMs: 60_000, initialDelayMs: 100, maxDelayMs: 300, ...time },
    );
    expect(result).toBe('ok');
    expect(time.sleeps).toEqual([100, 200, 300, 300]);
  });

  it('gives up at the deadline with the label and the last error', async () => {
    const time = fakeTime();
    const failing = retry(
      'ksqlDB',
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 1000, initialDelayMs: 400, ...time },
    );
    await expect(failing).rejects.toThrow(RetryTimeoutError);
    await expect(failing).rejects.toThrow(/ksqlDB: gave up after \d+ attempts in 1000 ms: connection refused/);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBe(1000);
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

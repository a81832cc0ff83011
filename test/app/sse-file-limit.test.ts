/**
 * One client must not be able to exhaust the file descriptors (issue 13, finding 5). Before the fix the SSE cap
 * defaulted to 20,000, the machine's whole open-file limit, with no cap per client: with the limit at 1024 one
 * client held 985 SSE connections and `/health` and `/ready` stopped answering for 20 s. The app runs here as a
 * real process under `ulimit -n 1024`, and the test opens a thousand SSE connections from one address.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type AppProcess, startApp } from '../helpers/app-process.js';
import { createTestDatabaseUrl } from '../helpers/db.js';
import { brokers } from '../helpers/kafka.js';

/** Opens an SSE connection and resolves with its status once the headers arrive; the socket stays open. */
function openSse(port: number, sockets: { destroy(): void }[]): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/stream/latest/events', agent: false }, (res) => {
      sockets.push(res.socket);
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
    req.end();
  });
}

async function timedHealth(port: number): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, ms: Date.now() - started };
}

async function flood(port: number, count: number) {
  const sockets: { destroy(): void }[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 50) {
    statuses.push(
      ...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => openSse(port, sockets)))),
    );
  }
  return { sockets, count: (status: number) => statuses.filter((s) => s === status).length };
}

describe('SSE connections under a small open-file limit', () => {
  const run = async (
    env: Record<string, string>,
    check: (port: number, f: Awaited<ReturnType<typeof flood>>) => Promise<void>,
  ) => {
    const app: AppProcess = startApp(
      { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: await createTestDatabaseUrl(), ...env },
      { fileLimit: 1024 },
    );
    try {
      const port = await app.listening;
      const f = await flood(port, 1000);
      try {
        await check(port, f);
      } finally {
        for (const s of f.sockets) s.destroy();
      }
    } finally {
      await app.crash();
    }
  };

  it('caps one address at SSE_MAX_CLIENTS_PER_ADDRESS with 429, and /health keeps answering', async () => {
    await run({}, async (port, f) => {
      expect(f.count(200)).toBe(100);
      expect(f.count(429)).toBe(900);
      const health = await timedHealth(port);
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(1000);
    });
  }, 120_000);

  it('lowers the total cap to what the file limit affords, and /health and /ready keep answering', async () => {
    await run({ SSE_MAX_CLIENTS_PER_ADDRESS: '0' }, async (port, f) => {
      // 1024 descriptors, 512 kept for everything else.
      expect(f.count(200)).toBe(512);
      expect(f.count(503)).toBe(488);
      const health = await timedHealth(port);
      expect(health.status).toBe(200);
      expect(health.ms).toBeLessThan(1000);
      const ready = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(5000) });
      expect([200, 503]).toContain(ready.status);
    });
  }, 120_000);
});

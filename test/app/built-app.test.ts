/**
 * The production build as `npm start` runs it: built on demand (a fresh clone has no dist/), served by plain
 * Node, with tsx — the dev-only TypeScript loader the output thread uses when running from sources — forbidden
 * in every thread by a preloaded resolve hook. The processor must write its outputs through its output thread.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createTestDatabaseUrl } from '../helpers/db.js';
import { brokers } from '../helpers/kafka.js';

const forbidTsx = new URL('../helpers/forbid-tsx.mjs', import.meta.url).pathname;

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', INFRA_ENV_FILE: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const port = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry['msg'] === 'http_listening') resolve(entry['port'] as number);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  port.catch(() => undefined);
  return { child, port, stderr: () => stderr };
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${name} `))
      ?.split(' ')[1] ?? Number.NaN,
  );
}

describe('the production build', () => {
  it('builds on demand and runs with no TypeScript loader in any thread', async () => {
    execFileSync(process.execPath, ['scripts/ensure-build.mjs'], { stdio: 'inherit' });
    const app = run(['--import', forbidTsx, 'dist/main.js'], {
      KAFKA_BROKERS: brokers().join(','),
      DATABASE_URL: await createTestDatabaseUrl(),
      SIMULATOR_AUTOSTART: 'true',
    });
    try {
      const port = await app.port;
      const deadline = Date.now() + 60_000;
      // Flushes are acknowledged only after the output thread wrote them.
      while ((await metric(port, 'processor_flushes_total').catch(() => 0)) < 3) {
        if (Date.now() > deadline) throw new Error(`no acknowledged flushes; stderr: ${app.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(await metric(port, 'processor_flush_failures_total')).toBe(0);
      expect(app.stderr()).not.toContain('tsx loaded');
    } finally {
      app.child.kill('SIGTERM');
      await once(app.child, 'exit');
    }
  }, 120_000);

  it('would notice tsx: the same hook stops a run from the TypeScript sources', async () => {
    const dev = run(['--import', forbidTsx, '--import', 'tsx', 'src/main.ts'], { KAFKA_BROKERS: '127.0.0.1:1' });
    const [code] = (await once(dev.child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(dev.stderr()).toContain('tsx loaded in a production run');
  });
});

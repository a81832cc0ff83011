/**
 * The infra scripts as users run them, on a private Kafka + PostgreSQL pair (own folder and ports), so the
 * shared services of the test run are never touched: up twice, down then up, status, wipe.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'infra-lifecycle-'));
chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when we are root: it must reach the folder
const env = {
  ...process.env,
  INFRA_DIR: dir,
  INFRA_KAFKA_PORT: '29092',
  INFRA_KAFKA_CONTROLLER_PORT: '29093',
  INFRA_PG_PORT: '25433',
};
const infra = (command: string) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/infra.ts', command], { env, timeout: 120_000 });

afterAll(async () => {
  await infra('wipe').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run infra:*', () => {
  it('starts, is idempotent, stops with data kept, restarts, and wipes', async () => {
    const first = await infra('up');
    expect(first.stdout).toContain('KAFKA_BROKERS=127.0.0.1:29092');
    expect(first.stdout).toContain('DATABASE_URL=postgres://telemetry@127.0.0.1:25433/telemetry');

    const second = await infra('up');
    expect(second.stderr).toContain('Kafka already answers');
    expect(second.stderr).toContain('PostgreSQL already answers');
    expect((await infra('status')).stdout).toMatch(/kafka\s+running[\s\S]*postgresql\s+running/);

    await infra('down');
    await expect(infra('status')).rejects.toMatchObject({ stdout: expect.stringMatching(/kafka\s+stopped/) });

    const again = await infra('up');
    expect(again.stderr).toMatch(/Kafka 4\.1\.\d ready/);
    expect(again.stderr).toMatch(/PostgreSQL ready/);

    await infra('wipe');
    await expect(infra('status')).rejects.toMatchObject({ stdout: expect.stringMatching(/postgresql\s+stopped/) });
  }, 240_000);
});

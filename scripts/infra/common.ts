/**
 * What the local infrastructure's parts share: the settings (validated with zod), the error they report, and the
 * small process helpers (tools on PATH, ports, pid files, waiting with backoff).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Backoff } from '../../src/core/backoff.js';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const port = z.coerce.number().int().min(1).max(65535);

/** Settings of the local services; every one has a default, so `npm run infra:up` needs no environment. */
export const InfraSettingsSchema = z.object({
  INFRA_DIR: z.string().default(join(projectRoot, '.local')).describe('Where data, logs and pid files live'),
  INFRA_KAFKA_PORT: port.default(9092).describe('Kafka client listener on 127.0.0.1'),
  INFRA_KAFKA_CONTROLLER_PORT: port.default(9093).describe('KRaft controller listener on 127.0.0.1'),
  INFRA_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mg]$/)
    .default('768m')
    .describe('Broker JVM heap (-Xmx)'),
  INFRA_KAFKA_RETENTION_BYTES: z.coerce
    .number()
    .int()
    .min(1_048_576)
    .default(1_073_741_824)
    .describe('Largest log per partition of every topic on the local broker (log.retention.bytes), by default 1 GiB'),
  INFRA_PG_PORT: port.default(5433).describe('PostgreSQL port on 127.0.0.1'),
  INFRA_PG_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('telemetry'),
  INFRA_PG_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('telemetry'),
  INFRA_READY_TIMEOUT_MS: z.coerce.number().int().positive().default(90_000),
});
export type InfraSettings = z.infer<typeof InfraSettingsSchema>;

export function loadInfraSettings(env: Record<string, string | undefined>): InfraSettings {
  const parsed = InfraSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new InfraError(`invalid infrastructure settings:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export class InfraError extends Error {
  override name = 'InfraError';
}

/** The connection settings the app and the tests read (`KEY=value`). */
export function connectionSettings(s: InfraSettings): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${s.INFRA_KAFKA_PORT}`,
    DATABASE_URL: `postgres://${s.INFRA_PG_USER}@127.0.0.1:${s.INFRA_PG_PORT}/${s.INFRA_PG_DATABASE}`,
  };
}

export const log = (msg: string) => process.stderr.write(`[infra] ${msg}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function which(cmd: string): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function requireTool(cmd: string, install: string): string {
  const found = which(cmd);
  if (!found) throw new InfraError(`'${cmd}' was not found on PATH. Install it with: ${install}`);
  return found;
}

export function portOpen(p: number): Promise<boolean> {
  return new Promise((res) => {
    const sock = createConnection({ host: '127.0.0.1', port: p });
    sock.once('connect', () => {
      sock.destroy();
      res(true);
    });
    sock.once('error', () => res(false));
    sock.setTimeout(1000, () => {
      sock.destroy();
      res(false);
    });
  });
}

export function pidAlive(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // the process is gone; the stale pid file is overwritten on the next start
  }
}

export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  const backoff = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 'none' });
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(backoff.next());
  }
  throw new InfraError(`${what} did not become ready within ${timeoutMs} ms; see ${logFile}`);
}

export async function stopPid(pidFile: string, what: string, graceMs: number): Promise<void> {
  const pid = pidAlive(pidFile);
  if (!pid) {
    log(`${what} is not running`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pidAlive(pidFile)) await sleep(200);
  if (pidAlive(pidFile)) {
    log(`${what} did not stop within ${graceMs} ms; killing it`);
    process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  log(`${what} stopped`);
}

/**
 * The application shell as a user runs it: a real process with the real Kafka and PostgreSQL, answering
 * /health, creating the source topics, and shutting down cleanly on SIGTERM.
 */
import { describe, expect, it } from 'vitest';
import { createAdmin, describePartitions } from '../src/bus/kafka-admin.js';
import { exitCode, startApp as startProcess } from './helpers/app-process.js';
import { databaseUrl } from './helpers/db.js';
import { brokers } from './helpers/kafka.js';

const startApp = (env: Record<string, string>) =>
  startProcess({ KAFKA_BROKERS: brokers().join(','), DATABASE_URL: databaseUrl(), ...env });

describe('the application shell', () => {
  it('serves /health, creates the source topics with equal partitions, and exits 0 on SIGTERM', async () => {
    const app = startApp({ KAFKA_TOPIC_PARTITIONS: '3' });
    const port = await app.listening;
    await app.started;
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });

    const admin = createAdmin({ brokers: brokers(), clientId: 'shell-test' });
    const partitions = await describePartitions(admin, ['device_location', 'device_status']);
    await admin.close();
    expect(partitions.get('device_location')).toBe(3);
    expect(partitions.get('device_status')).toBe(3);

    app.child.kill('SIGTERM');
    expect(await exitCode(app.child)).toBe(0);
    expect(app.lines.map((l) => l['msg'])).toContain('shutdown_finished');
  });

  it('starts the default simulation at start-up when SIMULATOR_AUTOSTART is set, and still exits 0', async () => {
    const app = startApp({ SIMULATOR_AUTOSTART: 'true' });
    const port = await app.listening;
    await app.started;
    const status = (await (await fetch(`http://127.0.0.1:${port}/simulate`)).json()) as {
      state: string;
      config: { devices: string[] };
    };
    expect(status.state).toBe('running');
    expect(status.config.devices).toEqual(['dev-1', 'dev-2', 'dev-3']);
    app.child.kill('SIGTERM');
    const code = await exitCode(app.child);
    const tail = app.lines
      .slice(-8)
      .map((l) => JSON.stringify(l))
      .join('\n');
    expect(code, `exit ${code}; stderr: ${app.stderr()}\nlast log lines:\n${tail}`).toBe(0);
  });

  it('keeps serving while Kafka is unreachable: /health 200, /ready 503 naming kafka, no crash', async () => {
    const app = startApp({ KAFKA_BROKERS: '127.0.0.1:1' });
    const port = await app.listening;
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean; message?: string }> };
    expect(body.checks['kafka']?.ok).toBe(false);
    expect(body.checks['postgresql']?.ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(app.child.exitCode).toBeNull();
    expect(app.lines.some((l) => l['msg'] === 'start_waiting_for_dependencies' && l['dependency'] === 'kafka')).toBe(
      true,
    );
    app.child.kill('SIGTERM');
    expect(await exitCode(app.child)).toBe(0);
  });

  it('refuses an invalid environment with one message naming every invalid variable', async () => {
    const app = startApp({ PORT: 'eighty', KAFKA_BROKERS: 'no-port', LOG_LEVEL: 'loud' });
    expect(await exitCode(app.child)).toBe(2);
    for (const variable of ['PORT', 'KAFKA_BROKERS', 'LOG_LEVEL']) expect(app.stderr()).toContain(variable);
  });
});

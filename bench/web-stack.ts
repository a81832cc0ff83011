/**
 * The app as a user runs it, for `bench/web.ts`: `src/main.ts` in its own process on a private single-node Kafka
 * (the jars and scripts of `npm run infra:up`, free loopback ports, a temporary folder) and a fresh database on
 * the local PostgreSQL, both removed by `stop()`. A private broker because the app writes the pipeline's real
 * topic names (they are not configurable), and a ten-minute simulation of 1,000 devices on the shared broker
 * would land in the topics other runs read.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClasspath, kafkaDown, kafkaUp, loadInfraSettings } from '../scripts/infra.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/sink/database.js';
import { type AppProcess, startApp } from '../test/helpers/app-process.js';

export interface WebStack {
  port: number;
  origin: string;
  app: AppProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

export async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(3000) })
      .then((res) => res.status)
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`/ready did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function startWebStack(log: (line: string) => void): Promise<WebStack> {
  const root = new URL('..', import.meta.url).pathname;
  // The page as `npm run build` bundles it (rebuilt only when web/ changed).
  execFileSync(process.execPath, [join(root, 'scripts/ensure-build.mjs'), '--web'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'bench-web-kafka-'));
  const settings = loadInfraSettings({
    INFRA_DIR: dir,
    INFRA_KAFKA_PORT: String(await freePort()),
    INFRA_KAFKA_CONTROLLER_PORT: String(await freePort()),
    INFRA_KAFKA_HEAP: '512m',
  });
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  try {
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    kafkaClasspath(settings);
    cleanups.push(() => kafkaDown(settings));
    await kafkaUp(settings);

    const serverUrl = loadConfig(process.env).DATABASE_URL;
    const name = `bench_web_${randomBytes(4).toString('hex')}`;
    const admin = createDatabase({ url: serverUrl, poolMax: 1 });
    await admin.unsafe(`create database ${name}`);
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    });
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;

    const port = await freePort();
    const app = startApp({
      KAFKA_BROKERS: `127.0.0.1:${settings.INFRA_KAFKA_PORT}`,
      DATABASE_URL: url.toString(),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    cleanups.push(() => app.crash());
    // At `warn` the app does not log `http_listening`: readiness is the signal.
    await Promise.race([
      waitReady(port, 120_000),
      new Promise((_, reject) => app.child.once('exit', (code) => reject(new Error(`app exited with ${code}`)))),
    ]);
    log(`app ready on 127.0.0.1:${port} (broker 127.0.0.1:${settings.INFRA_KAFKA_PORT}, database ${name})`);
    return { port, origin: `http://127.0.0.1:${port}`, app, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

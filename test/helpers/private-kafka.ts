/**
 * A private single-node Kafka for tests that must stop, restart or crash things the shared broker serves:
 * the same jars and scripts as `npm run infra:up`, on free loopback ports, in a temporary folder, stopped and
 * removed when the test file finishes. The shared set-up's resolved classpath is reused, so no Maven run.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { type InfraSettings, kafkaClasspath, kafkaDown, kafkaUp, loadInfraSettings } from '../../scripts/infra.js';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export interface PrivateKafka {
  brokers: string[];
  settings: InfraSettings;
  /** Stops the broker, keeping its data (a restart with `start` finds it again). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a private broker now; it is stopped and its folder removed after the test (or the file, outside a test). */
export async function startPrivateKafka(prefix = 'private-kafka-'): Promise<PrivateKafka> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const shared = loadInfraSettings({});
  kafkaClasspath(shared);
  mkdirSync(join(dir, 'kafka'), { recursive: true });
  for (const file of readdirSync(join(shared.INFRA_DIR, 'kafka')).filter((f) => f.startsWith('classpath-'))) {
    copyFileSync(join(shared.INFRA_DIR, 'kafka', file), join(dir, 'kafka', file));
  }
  const settings = loadInfraSettings({
    INFRA_DIR: dir,
    INFRA_KAFKA_PORT: String(await freePort()),
    INFRA_KAFKA_CONTROLLER_PORT: String(await freePort()),
    INFRA_KAFKA_HEAP: '384m',
  });
  const cleanup = async () => {
    await kafkaDown(settings);
    rmSync(dir, { recursive: true, force: true });
  };
  // Inside a test, an afterAll registered then never runs (vitest collects hooks before the tests): the broker
  // outlived its test file and kept running, orphaned, through the rest of the suite.
  try {
    onTestFinished(cleanup);
  } catch {
    afterAll(cleanup);
  }
  await kafkaUp(settings);
  return {
    brokers: [`127.0.0.1:${settings.INFRA_KAFKA_PORT}`],
    settings,
    stop: () => kafkaDown(settings),
    start: () => kafkaUp(settings),
  };
}

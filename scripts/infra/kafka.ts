/**
 * A single-node Apache Kafka (KRaft) from Maven Central jars (resolved by Maven from `infra/kafka/kafka-deps.pom`),
 * on 127.0.0.1, with data and log under `<INFRA_DIR>/kafka`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import {
  InfraError,
  type InfraSettings,
  log,
  pidAlive,
  portOpen,
  projectRoot,
  requireTool,
  stopPid,
  waitFor,
} from './common.js';

export const kafkaDir = (s: InfraSettings) => join(s.INFRA_DIR, 'kafka');
const pomFile = join(projectRoot, 'infra/kafka/kafka-deps.pom');

/** Resolves the broker classpath with Maven (cached in ~/.m2 and in `.local/kafka/classpath.txt`). */
export function kafkaClasspath(s: InfraSettings): string {
  requireTool('java', 'apt-get install -y openjdk-17-jre-headless');
  const dir = kafkaDir(s);
  mkdirSync(dir, { recursive: true });
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 16);
  const cpFile = join(dir, `classpath-${pomHash}.txt`);
  if (existsSync(cpFile)) {
    const cp = readFileSync(cpFile, 'utf8').trim();
    if (cp.split(':').every((jar) => existsSync(jar))) return cp;
  }
  requireTool('mvn', 'apt-get install -y maven');
  log('resolving Kafka jars from Maven Central (first run only)');
  execFileSync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomFile,
      'org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath',
      `-Dmdep.outputFile=${cpFile}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return readFileSync(cpFile, 'utf8').trim();
}

export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'));
  if (!m?.[1]) throw new InfraError(`no <kafka.version> in ${pomFile}`);
  return m[1];
}

export async function kafkaAnswers(s: InfraSettings): Promise<boolean> {
  if (!(await portOpen(s.INFRA_KAFKA_PORT))) return false;
  const admin = new Admin({
    clientId: 'infra-probe',
    bootstrapBrokers: [`127.0.0.1:${s.INFRA_KAFKA_PORT}`],
    connectTimeout: 2000,
    requestTimeout: 3000,
    retries: 0,
  });
  try {
    const md = await admin.metadata({ topics: [] });
    return md.brokers.size > 0;
  } catch {
    return false; // not ready yet: the caller polls again
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * The broker's `server.properties`: the fixed template (`infra/kafka/server.properties`) plus the ports, the data
 * directory and the size bound per partition of this machine's settings.
 */
export function kafkaProperties(s: InfraSettings, template: string): string {
  return `${template}
# --- written by scripts/infra.ts
controller.quorum.voters=1@127.0.0.1:${s.INFRA_KAFKA_CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${s.INFRA_KAFKA_PORT},CONTROLLER://127.0.0.1:${s.INFRA_KAFKA_CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${s.INFRA_KAFKA_PORT}
log.dirs=${join(kafkaDir(s), 'data')}
log.retention.bytes=${s.INFRA_KAFKA_RETENTION_BYTES}
`;
}

function writeKafkaProperties(s: InfraSettings): string {
  const template = readFileSync(join(projectRoot, 'infra/kafka/server.properties'), 'utf8');
  const file = join(kafkaDir(s), 'server.properties');
  writeFileSync(file, kafkaProperties(s, template));
  return file;
}

const jvmFlags = (heap: string) => [
  `-Xms256m`,
  `-Xmx${heap}`,
  '-XX:+UseSerialGC',
  '-XX:+ExitOnOutOfMemoryError',
  '-Djava.awt.headless=true',
  '-Djava.net.preferIPv4Stack=true',
];

export async function kafkaUp(s: InfraSettings): Promise<void> {
  const dir = kafkaDir(s);
  const pidFile = join(dir, 'kafka.pid');
  const logFile = join(dir, 'kafka.log');
  if (await kafkaAnswers(s)) {
    log(`Kafka already answers on 127.0.0.1:${s.INFRA_KAFKA_PORT}`);
    return;
  }
  if (pidAlive(pidFile)) {
    log('Kafka is starting; waiting for it');
    await waitFor('Kafka', s.INFRA_READY_TIMEOUT_MS, () => kafkaAnswers(s), logFile);
    return;
  }
  if (await portOpen(s.INFRA_KAFKA_PORT)) {
    throw new InfraError(`port ${s.INFRA_KAFKA_PORT} is taken by something that is not Kafka; set INFRA_KAFKA_PORT`);
  }
  const cp = kafkaClasspath(s);
  const props = writeKafkaProperties(s);
  const dataDir = join(dir, 'data');
  const versionFile = join(dir, 'formatted-version');
  const version = kafkaVersion();
  if (existsSync(versionFile) && readFileSync(versionFile, 'utf8').trim() !== version) {
    log(`Kafka version changed to ${version}: wiping the old data directory`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    let clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
    mkdirSync(dataDir, { recursive: true });
    const r = spawnSync(
      'java',
      [
        '-Xmx256m',
        '-XX:TieredStopAtLevel=1',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        cp,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        props,
        '--ignore-formatted',
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new InfraError(`formatting Kafka storage failed:\n${r.stderr}`);
    writeFileSync(versionFile, version);
  }
  const out = openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      ...jvmFlags(s.INFRA_KAFKA_HEAP),
      `-Dkafka.logs.dir=${dir}`,
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      cp,
      'kafka.Kafka',
      props,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  writeFileSync(pidFile, String(child.pid));
  const started = Date.now();
  await waitFor(
    'Kafka',
    s.INFRA_READY_TIMEOUT_MS,
    async () => {
      if (!pidAlive(pidFile)) throw new InfraError(`Kafka exited during start-up; see ${logFile}`);
      return kafkaAnswers(s);
    },
    logFile,
  );
  log(`Kafka ${version} ready on 127.0.0.1:${s.INFRA_KAFKA_PORT} in ${Date.now() - started} ms`);
}

export async function kafkaDown(s: InfraSettings): Promise<void> {
  await stopPid(join(kafkaDir(s), 'kafka.pid'), 'Kafka', 30_000);
}

/**
 * Static validation of the Docker Compose deployment (this machine has no Docker engine; the smoke test in
 * .github/workflows/compose-smoke.yml runs it): the compose file parses and is well-formed, images are pinned,
 * everything it mounts or builds exists, depends_on is sound for `up --wait`, the one-shot services get the files
 * and addresses they need, the connector configs match ksqlDB's output topics and the migrated tables, and the
 * app's settings for this deployment pass the app's own config validation. Reads ksql/, connect/ and
 * migrations/ at run time, so it follows those folders as they change. One file past 400 lines on purpose: each
 * `describe` checks one service of the one compose file, and they share its parsed form.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type ConnectorConfig, parseConnectorFile } from '../../scripts/register-connectors.js';
import { pipelineTopics } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SOURCE_TOPICS, TOPICS } from '../../src/core/topics.js';
import { loadMigrations } from '../../src/sink/migrate.js';
import {
  type ComposeService,
  interpolateAll,
  isPinned,
  type Json,
  parseCompose,
  parseDockerfile,
  parseEnvFile,
  serviceEnvironment,
  type VariableUse,
  yaml11Ambiguities,
} from './compose-model.js';
import { formatCopySource, readKsqlObjects } from './ksql-model.js';
import { parseTables, targetTable, writtenRecord } from './sink-model.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

const raw = parseCompose(read('docker-compose.yml'));
const envExample = parseEnvFile(read('.env.example'));
const uses: VariableUse[] = [];
/** The file as Compose sees it with no .env at all (what `docker compose up -d` on a fresh clone gets). */
const compose = interpolateAll(raw as unknown as Json, {}, uses) as unknown as typeof raw;
/** ... and with .env.example copied to .env. */
const composeWithEnv = interpolateAll(raw as unknown as Json, envExample) as unknown as typeof raw;
const services = compose.services;
const serviceNames = Object.keys(services);

const SERVICE_KEYS = new Set([
  'build',
  'cap_drop',
  'read_only',
  'security_opt',
  'command',
  'container_name',
  'depends_on',
  'entrypoint',
  'env_file',
  'environment',
  'expose',
  'healthcheck',
  'hostname',
  'image',
  'networks',
  'ports',
  'profiles',
  'pull_policy',
  'restart',
  'stop_grace_period',
  'ulimits',
  'user',
  'volumes',
  'working_dir',
]);

function dependsOn(service: ComposeService): Record<string, { condition: string }> {
  const deps = service['depends_on'];
  if (deps === undefined) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [String(d), { condition: 'service_started' }]));
  return deps as Record<string, { condition: string }>;
}

function buildOf(service: ComposeService): { context: string; dockerfile: string } | undefined {
  const build = service['build'];
  if (build === undefined) return undefined;
  if (typeof build === 'string') return { context: build, dockerfile: 'Dockerfile' };
  const b = build as { context?: string; dockerfile?: string };
  return { context: b.context ?? '.', dockerfile: b.dockerfile ?? 'Dockerfile' };
}

const dockerfileOf = (service: ComposeService) => {
  const build = buildOf(service);
  return build ? parseDockerfile(join(root, build.context, build.dockerfile)) : undefined;
};

const hasHealthcheck = (service: ComposeService) => {
  const hc = service['healthcheck'] as { test?: Json; disable?: boolean } | undefined;
  if (hc?.disable === true) return false;
  if (hc?.test !== undefined) return !(Array.isArray(hc.test) && hc.test[0] === 'NONE');
  return dockerfileOf(service)?.hasHealthcheck ?? false;
};

const inDefaultProfile = (name: string) => services[name]?.['profiles'] === undefined;

describe('docker-compose.yml', () => {
  it('parses, and has only known top-level and service keys', () => {
    for (const key of Object.keys(raw)) {
      expect(
        ['name', 'services', 'volumes', 'networks', 'configs', 'secrets'].includes(key) || key.startsWith('x-'),
        key,
      ).toBe(true);
    }
    expect(raw).not.toHaveProperty('version'); // obsolete in the Compose specification
    expect(yaml11Ambiguities(read('docker-compose.yml')), 'values to quote').toEqual([]);
    expect(serviceNames.length).toBeGreaterThan(0);
    for (const [name, service] of Object.entries(services)) {
      for (const key of Object.keys(service)) expect(SERVICE_KEYS.has(key), `${name}.${key}`).toBe(true);
      expect(service['image'] !== undefined || service['build'] !== undefined, `${name} has image or build`).toBe(true);
      // Unquoted `restart: no` is a boolean under YAML 1.1 parsers: it must be a string.
      if (service['restart'] !== undefined) {
        expect(['no', 'always', 'on-failure', 'unless-stopped']).toContain(service['restart']);
      }
      for (const port of (service['ports'] as string[] | undefined) ?? []) {
        expect(port, `${name} port`).toMatch(/^127\.0\.0\.1:\d{1,5}:\d{1,5}$/);
      }
    }
  });

  it('has the services of the distributed engines, and the profiles', () => {
    for (const name of [
      'redpanda',
      'ksqldb-server',
      'connect',
      'postgres',
      'init',
      'ksql-init',
      'connect-init',
      'app',
    ]) {
      expect(services[name], name).toBeDefined();
      expect(inDefaultProfile(name), `${name} starts with a plain up`).toBe(true);
    }
    expect(services['console']?.['profiles']).toEqual(['console']);
    expect(services['app-embedded']?.['profiles']).toEqual(['embedded']);
  });

  it('needs no .env: every variable has a default, and .env.example names each one', () => {
    const names = new Set(uses.map((u) => u.name));
    for (const use of uses) expect(use.hasDefault && !use.required, `\${${use.name}} has a default`).toBe(true);
    for (const name of names) expect(envExample, `.env.example lists ${name}`).toHaveProperty(name);
    for (const name of Object.keys(envExample)) expect(names.has(name), `${name} in .env.example is used`).toBe(true);
    expect(Object.keys(composeWithEnv.services)).toEqual(serviceNames);
  });

  it('keeps secrets out of git and out of the image', () => {
    expect(
      read('.gitignore')
        .split('\n')
        .map((l) => l.trim()),
    ).toContain('.env');
    const dockerignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(dockerignore).toContain('.env');
    expect(dockerignore).toContain('.local');
    // The only password in the compose file is the documented local-development fallback.
    const passwords = read('docker-compose.yml').match(/PASSWORD:-[^}]+/g) ?? [];
    expect(new Set(passwords)).toEqual(new Set(['PASSWORD:-telemetry-dev-password']));
  });

  it('pins every image: no latest, a tag on each, also in the Dockerfiles it builds', () => {
    for (const [name, service] of Object.entries(services)) {
      const dockerfile = dockerfileOf(service);
      if (dockerfile) {
        expect(dockerfile.baseImages.length, `${name} Dockerfile has a base image`).toBeGreaterThan(0);
        for (const image of dockerfile.baseImages) expect(isPinned(image), `${name} FROM ${image}`).toBe(true);
      } else {
        expect(isPinned(String(service['image'])), `${name} image ${String(service['image'])}`).toBe(true);
      }
    }
    expect(isPinned('postgres')).toBe(false);
    expect(isPinned('postgres:latest')).toBe(false);
    expect(isPinned('registry:5000/img')).toBe(false);
  });

  it('mounts and builds only files that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service['volumes'] as string[] | undefined) ?? []) {
        const [source = ''] = volume.split(':');
        if (source.startsWith('.') || source.startsWith('/')) {
          expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
        } else {
          expect(compose.volumes, `${name} uses named volume ${source}`).toHaveProperty(source);
        }
      }
      const build = buildOf(service);
      if (!build) continue;
      expect(statSync(join(root, build.context)).isDirectory(), `${name} build context`).toBe(true);
      const dockerfile = dockerfileOf(service)!;
      for (const source of dockerfile.contextSources) {
        expect(existsSync(join(root, build.context, source)), `${name}: COPY ${source}`).toBe(true);
      }
    }
  });

  it('depends only on services that exist, are healthy-checkable and start with it', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(dependsOn(service))) {
        expect(serviceNames, `${name} depends on ${dep}`).toContain(dep);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(hasHealthcheck(services[dep]!), `${dep} healthcheck`).toBe(true);
        if (condition === 'service_completed_successfully') expect(services[dep]!['restart']).toBe('no');
        if (inDefaultProfile(name)) expect(inDefaultProfile(dep), `${name} needs ${dep} without a profile`).toBe(true);
      }
    }
    // No cycles: a depth-first walk never meets a service on its own path.
    const visit = (name: string, path: string[]) => {
      expect(path, `cycle through ${name}`).not.toContain(name);
      for (const dep of Object.keys(dependsOn(services[name]!))) visit(dep, [...path, name]);
    };
    for (const name of serviceNames) visit(name, []);
    // Each one-shot waits for what it prepares, and the app for every one-shot.
    const waits = (name: string) =>
      Object.fromEntries(Object.entries(dependsOn(services[name]!)).map(([dep, { condition }]) => [dep, condition]));
    expect(waits('init')).toEqual({ redpanda: 'service_healthy', postgres: 'service_healthy' });
    expect(waits('ksql-init')).toEqual({ 'ksqldb-server': 'service_healthy', init: 'service_completed_successfully' });
    expect(waits('connect-init')).toEqual({
      connect: 'service_healthy',
      'ksql-init': 'service_completed_successfully',
    });
    for (const dep of ['init', 'ksql-init', 'connect-init']) {
      expect(waits('app')[dep], `app waits for ${dep}`).toBe('service_completed_successfully');
    }
  });

  it('lets `up --wait` succeed: every one-shot service is awaited by a long-running one', () => {
    // docker/compose#10596: with --wait, a one-shot that exits (even with 0) fails the command unless a service that
    // keeps running depends on it with service_completed_successfully.
    const oneShots = serviceNames.filter((n) => services[n]!['restart'] === 'no' && inDefaultProfile(n));
    expect(oneShots.sort()).toEqual(['connect-init', 'init', 'ksql-init']);
    const longRunning = serviceNames.filter((n) => services[n]!['restart'] !== 'no' && inDefaultProfile(n));
    for (const oneShot of oneShots) {
      const awaitedBy = longRunning.filter(
        (n) => dependsOn(services[n]!)[oneShot]?.condition === 'service_completed_successfully',
      );
      expect(awaitedBy, `${oneShot} is awaited by a long-running service`).not.toEqual([]);
    }
    for (const name of longRunning) {
      expect(services[name]!['restart'], `${name} restarts`).toBe('unless-stopped');
      expect(hasHealthcheck(services[name]!), `${name} has a healthcheck for --wait`).toBe(true);
    }
  });

  it('runs Redpanda in dev-container mode with Kafka and Schema Registry on internal and host listeners', () => {
    const command = (services['redpanda']!['command'] as string[]).join(' ');
    expect(command).toContain('--mode=dev-container');
    expect(command).toMatch(/--kafka-addr=internal:\/\/0\.0\.0\.0:9092,external:\/\/0\.0\.0\.0:19092/);
    expect(command).toMatch(/--advertise-kafka-addr=internal:\/\/redpanda:9092,external:\/\/localhost:19092/);
    expect(command).toMatch(/--schema-registry-addr=internal:\/\/0\.0\.0\.0:8081,external:\/\/0\.0\.0\.0:18081/);
    expect(services['redpanda']!['ports']).toEqual(
      expect.arrayContaining(['127.0.0.1:19092:19092', '127.0.0.1:18081:18081']),
    );
  });

  it('runs ksqlDB in interactive mode, from earliest, with Redpanda as Schema Registry', () => {
    const env = serviceEnvironment(services['ksqldb-server']!);
    expect(env).not.toHaveProperty('KSQL_KSQL_QUERIES_FILE'); // headless mode would remove the REST API
    expect(env['KSQL_KSQL_STREAMS_AUTO_OFFSET_RESET']).toBe('earliest');
    expect(env['KSQL_KSQL_SCHEMA_REGISTRY_URL']).toBe('http://redpanda:8081');
    expect(env['KSQL_BOOTSTRAP_SERVERS']).toBe('redpanda:9092');
    expect(String(services['ksqldb-server']!['image'])).toMatch(/^confluentinc\/cp-ksqldb-server:\d+\.\d+\.\d+$/);
  });

  it('keeps Connect internal topics on Redpanda and gives it the JDBC sink and the Avro converter', () => {
    const env = serviceEnvironment(services['connect']!);
    expect(env['CONNECT_BOOTSTRAP_SERVERS']).toBe('redpanda:9092');
    for (const kind of ['CONFIG', 'OFFSET', 'STATUS']) {
      expect(env[`CONNECT_${kind}_STORAGE_TOPIC`]).toBeTruthy();
      expect(env[`CONNECT_${kind}_STORAGE_REPLICATION_FACTOR`]).toBe('1');
    }
    const dockerfile = read('docker/connect/Dockerfile');
    expect(dockerfile).toMatch(/FROM confluentinc\/cp-kafka-connect:\$\{CP_VERSION\}/); // ships AvroConverter
    expect(dockerfile).toMatch(/confluentinc\/kafka-connect-jdbc:\$\{JDBC_CONNECTOR_VERSION\}/);
    expect(dockerfile).toMatch(/--component-dir \/usr\/share\/confluent-hub-components/);
    expect(env['CONNECT_PLUGIN_PATH']!.split(',')).toContain('/usr/share/confluent-hub-components');
    expect(services['postgres']!['image']).toMatch(/^postgres:\d+(-[a-z]+)?$/); // pinned major version
  });
});

describe('the one-shot services', () => {
  const appDockerfile = parseDockerfile(join(root, 'Dockerfile'));
  const tsconfig = JSON.parse(read('docker/tsconfig.init.json')) as { include: string[]; compilerOptions: Json };
  /** Where the app image holds a folder of the repository (its COPY destination). */
  const inImage = (source: string) => appDockerfile.copies.find((c) => c.source === source)?.destination;
  /** The container path a service mounts `source` (a repository path) at. */
  const mountOf = (service: string, source: string) =>
    ((services[service]!['volumes'] as string[] | undefined) ?? [])
      .map((v) => v.split(':'))
      .find(([from]) => from === source)?.[1];
  const objects = readKsqlObjects(join(root, 'ksql'));

  it('init: runs the compiled compose-init from the app image and creates the topics the source streams read', () => {
    const init = services['init']!;
    expect(init['image']).toBe(services['app']!['image']);
    expect(init['command']).toEqual(['node', 'dist/init/scripts/compose-init.js']);
    expect(tsconfig.include).toContain('../scripts/compose-init.ts');
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: '../dist/init', rootDir: '..' });
    const env = serviceEnvironment(init);
    expect(env['MIGRATIONS_DIR'], 'migrations/ in the image').toBe(inImage('migrations'));
    // The topics it creates (the app's own list) include every topic a source stream of ksql/ reads, with one
    // partition count for all of them, as the join requires.
    const topics = pipelineTopics(loadConfig(env));
    const sourceTopics = objects.filter((o) => !o.asSelect).map((o) => o.topic);
    expect(sourceTopics.length).toBeGreaterThan(0);
    for (const topic of sourceTopics)
      expect(
        topics.map((t) => t.name),
        `init creates ${topic}`,
      ).toContain(topic);
    expect(new Set(topics.map((t) => t.partitions)).size).toBe(1);
    // The telemetry sources, and the alert component's output (which it writes on this engine too).
    expect(new Set(sourceTopics)).toEqual(new Set([...SOURCE_TOPICS, TOPICS.DEVICE_ALERTS]));
    // Bounded (issue 15): the streams it creates age out after KAFKA_RETENTION_MS, the state topic is compacted,
    // and the topics ksqlDB creates get the same age limit from Redpanda's cluster default.
    const config = loadConfig(env);
    for (const t of topics) {
      const policy = t.name === config.ALERT_STATE_TOPIC ? 'compact' : 'delete';
      expect(t.configs?.['cleanup.policy'], t.name).toBe(policy);
      if (policy === 'delete') expect(t.configs?.['retention.ms'], t.name).toBe(String(config.KAFKA_RETENTION_MS));
    }
    const bootstrap = parseYaml(read('redpanda/bootstrap.yaml')) as Record<string, unknown>;
    expect(bootstrap['log_retention_ms']).toBe(config.KAFKA_RETENTION_MS);
  });

  it('ksql-init: runs the mounted script in the ksqlDB server image, with ksql/ where the properties point', () => {
    const ksqlInit = services['ksql-init']!;
    expect(ksqlInit['image'], 'the image that ships ksql-migrations, same version').toBe(
      services['ksqldb-server']!['image'],
    );
    const scriptDir = mountOf('ksql-init', './docker/ksql-init');
    expect(scriptDir).toBeDefined();
    expect(ksqlInit['entrypoint']).toEqual(['bash', `${scriptDir}/ksql-init.sh`]);
    // The script's default properties file is in that mount.
    expect(read('docker/ksql-init/ksql-init.sh')).toContain(
      `config="\${KSQL_MIGRATIONS_CONFIG:-${scriptDir}/ksql-migrations.properties}"`,
    );
    const properties = read('docker/ksql-init/ksql-migrations.properties');
    expect(properties).toContain(`ksql.migrations.dir.override=${mountOf('ksql-init', './ksql')}`);
    // ksql.server.url names the ksqldb-server service on the port it listens on.
    const listener = new URL(serviceEnvironment(services['ksqldb-server']!)['KSQL_LISTENERS']!);
    expect(properties).toContain(`ksql.server.url=http://ksqldb-server:${listener.port}`);
    for (const volume of ksqlInit['volumes'] as string[]) expect(volume, 'read-only mount').toMatch(/:ro$/);
  });

  it('connect-init: runs the compiled registrar from the app image against the connect service', () => {
    const connectInit = services['connect-init']!;
    expect(connectInit['image']).toBe(services['app']!['image']);
    expect(connectInit['command']).toEqual(['node', 'dist/init/scripts/register-connectors.js']);
    expect(tsconfig.include).toContain('../scripts/register-connectors.ts');
    const env = serviceEnvironment(connectInit);
    expect(env['CONNECT_DIR'], 'connect/ in the image').toBe(inImage('connect'));
    expect(env['CONNECT_URL']).toBe(`http://connect:${serviceEnvironment(services['connect']!)['CONNECT_REST_PORT']}`);
  });

  it("ksqlDB's queries write the topics the embedded engine writes too, besides format copies for Connect", () => {
    const sinks = objects.filter((o) => o.asSelect);
    const embedded = [TOPICS.JOIN_EVENTS, TOPICS.DEVICE_WINAGG_STATUS_PER2S, TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE];
    expect(sinks.map((o) => o.topic)).toEqual(expect.arrayContaining(embedded));
    // Any other output only re-serializes a topic that the embedded engine reads as it is.
    const copies = sinks.filter((o) => !(embedded as string[]).includes(o.topic));
    expect(copies.map((o) => [o.topic, formatCopySource(o, objects)?.topic])).toEqual([
      [TOPICS.DEVICE_ALERTS_AVRO, TOPICS.DEVICE_ALERTS],
    ]);
  });
});

/** The PostgreSQL table a JDBC sink writes, as PostgreSQL will resolve it. */
describe('connect/ configs', () => {
  const dir = join(root, 'connect');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const connectors = files.map((f) => parseConnectorFile(f, readFileSync(join(dir, f), 'utf8')));
  const topicsOf = (c: ConnectorConfig) => (c.config['topics'] ?? '').split(',').map((t) => t.trim());
  const ksqlOutputs = async () =>
    new Map(
      readKsqlObjects(join(root, 'ksql'))
        .filter((c) => c.asSelect)
        .map((c) => [c.topic, c]),
    );
  const migratedTables = async () =>
    parseTables((await loadMigrations(join(root, 'migrations'))).map((m) => m.sql).join('\n'));

  it('exist for both ksqlDB tables and the alerts, and read only topics ksqlDB produces', async () => {
    const produced = await ksqlOutputs();
    const read = connectors.flatMap(topicsOf);
    expect(read).toEqual(
      expect.arrayContaining([
        TOPICS.DEVICE_WINAGG_STATUS_PER2S,
        TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE,
        TOPICS.DEVICE_ALERTS_AVRO,
      ]),
    );
    for (const topic of read) expect(produced.has(topic), `${topic} is a ksqlDB output`).toBe(true);
    expect(new Set(connectors.map((c) => c.name)).size, 'connector names are unique').toBe(connectors.length);
  });

  it('write into tables the migrations create, column by column', async () => {
    const produced = await ksqlOutputs();
    const tables = await migratedTables();
    expect(connectors.length).toBeGreaterThan(0);
    for (const connector of connectors) {
      const c = connector.config;
      expect(c['auto.create'] ?? 'false', `${connector.name} does not create tables`).toBe('false');
      expect(c['schema.evolution'] ?? 'none', `${connector.name} does not alter tables`).toBe('none');
      for (const topic of topicsOf(connector)) {
        const label = `${connector.name} (${topic})`;
        const table = tables.get(targetTable(connector, topic));
        expect(table, `${label} writes ${targetTable(connector, topic)}, a migrated table`).toBeDefined();
        const output = produced.get(topic)!;
        const columns = output.columns();
        expect(columns, `${label}: ksqlDB columns are known`).not.toContain('*');
        // The key columns (a table's GROUP BY, a stream's KEY) are in the Kafka key, not in the record value.
        const keys = output.keyColumns();
        const value = columns.filter((col) => !keys.includes(col));
        const written = writtenRecord(connector, value);
        expect(written.unknownRenames, `${label}: renames of columns ksqlDB does not write`).toEqual([]);
        const all = [...new Set([...written.valueColumns, ...written.keyColumns])];
        for (const col of all) expect(table!.columns.has(col), `${label}: column ${col} exists`).toBe(true);
        for (const col of table!.columns.values()) {
          if (col.notNull && !col.filledByDatabase) {
            expect(all, `${label}: NOT NULL column ${col.name} is written`).toContain(col.name);
          }
        }
        if ((c['insert.mode'] ?? 'insert') === 'upsert') {
          expect(written.keyColumns, `${label}: upserts on the table's primary key`).toEqual(table!.primaryKey);
        }
      }
    }
  });

  it('use plugins the worker image has, Redpanda as Schema Registry and secrets only through env placeholders', () => {
    const connectEnv = serviceEnvironment(services['connect']!);
    const dockerfile = read('docker/connect/Dockerfile');
    // Classes of the base image (Kafka Connect runtime, Confluent converters) and of the plugins the Dockerfile adds.
    const available = ['org.apache.kafka.connect.', 'io.confluent.connect.avro.AvroConverter'];
    if (dockerfile.includes('io.debezium:debezium-connector-jdbc')) {
      available.push('io.debezium.connector.jdbc.JdbcSinkConnector', 'io.debezium.transforms.');
    }
    if (dockerfile.includes('confluentinc/kafka-connect-jdbc')) available.push('io.confluent.connect.jdbc.');
    const isAvailable = (cls: string) => available.some((p) => cls === p || (p.endsWith('.') && cls.startsWith(p)));
    for (const connector of connectors) {
      const c = connector.config;
      expect(isAvailable(c['connector.class']!), `${connector.name} ${c['connector.class']}`).toBe(true);
      for (const [key, value] of Object.entries(c)) {
        if (/(^|\.)(converter|type|class)$/.test(key)) {
          expect(isAvailable(value), `${connector.name} ${key}=${value} is on the worker`).toBe(true);
        }
        if (key.endsWith('schema.registry.url')) expect(value, `${connector.name} ${key}`).toBe('http://redpanda:8081');
        if (/password/i.test(key)) expect(value, `${connector.name} ${key}`).toMatch(/^\$\{env:[A-Z_]+\}$/);
        for (const [, provider, variable] of value.matchAll(/\$\{(\w+):([^}:]+)\}/g)) {
          expect(provider, `${connector.name} ${key} uses the env config provider`).toBe('env');
          expect(connectEnv, `connect has ${variable} for ${connector.name}`).toHaveProperty(variable!);
        }
      }
    }
    expect(connectEnv['CONNECT_CONFIG_PROVIDERS']).toBe('env');
    expect(connectEnv['CONNECT_CONFIG_PROVIDERS_ENV_CLASS']).toBe(
      'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    );
    // Every connection setting resolves, from the worker's environment, to the database the app reads.
    const app = new URL(loadConfig(serviceEnvironment(services['app']!)).DATABASE_URL);
    const resolveEnv = (v: string | undefined) =>
      (v ?? '').replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => connectEnv[name] ?? '');
    for (const connector of connectors) {
      const c = connector.config;
      const url = new URL(resolveEnv(c['connection.url']).replace(/^jdbc:/, ''));
      expect(url.host, connector.name).toBe(app.host);
      expect(url.pathname, connector.name).toBe(app.pathname);
      expect(resolveEnv(c['connection.user'] ?? c['connection.username'])).toBe(decodeURIComponent(app.username));
      expect(resolveEnv(c['connection.password'])).toBe(decodeURIComponent(app.password));
    }
  });
});

describe("the app's configuration in this deployment", () => {
  it('parses with loadConfig: ENGINE=ksqldb against the compose services, with and without .env', () => {
    for (const file of [compose, composeWithEnv]) {
      const config = loadConfig(serviceEnvironment(file.services['app']!));
      expect(config.ENGINE).toBe('ksqldb');
      expect(config.KSQLDB_URL).toBe('http://ksqldb-server:8088');
      expect(config.KAFKA_BROKERS).toEqual(['redpanda:9092']);
      expect(new URL(config.DATABASE_URL).host).toBe('postgres:5432');
      expect(config.HOST).toBe('0.0.0.0');
      expect(config.KAFKA_CREATE_TOPICS).toBe(false); // the init did it
      expect(config.DATABASE_MIGRATE).toBe(false);
    }
  });

  it('gives the init and the embedded app settings that parse too', () => {
    const init = loadConfig(serviceEnvironment(services['init']!));
    const app = loadConfig(serviceEnvironment(services['app']!));
    expect(init.KAFKA_TOPIC_PARTITIONS).toBe(app.KAFKA_TOPIC_PARTITIONS);
    expect(init.DATABASE_URL).toBe(app.DATABASE_URL);
    const embedded = loadConfig(serviceEnvironment(services['app-embedded']!));
    expect(embedded.ENGINE).toBe('embedded');
    expect(embedded.DATABASE_MIGRATE).toBe(true);
    expect(embedded.KAFKA_CREATE_TOPICS).toBe(true);
  });

  it('matches the database credentials PostgreSQL is started with', () => {
    const pg = serviceEnvironment(services['postgres']!);
    for (const file of [compose, composeWithEnv]) {
      const url = new URL(loadConfig(serviceEnvironment(file.services['app']!)).DATABASE_URL);
      const pgEnv = serviceEnvironment(file.services['postgres']!);
      expect(decodeURIComponent(url.username)).toBe(pgEnv['POSTGRES_USER']);
      expect(decodeURIComponent(url.password)).toBe(pgEnv['POSTGRES_PASSWORD']);
      expect(url.pathname).toBe(`/${pgEnv['POSTGRES_DB']}`);
    }
    expect(pg['POSTGRES_PASSWORD']).toBeTruthy();
  });

  it('imports at run time only production dependencies (the image installs no others)', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const files = [
      ...readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => join('src', f)),
      'scripts/compose-init.ts',
      'scripts/register-connectors.ts',
      ...readdirSync(join(root, 'scripts/compose-init')).map((f) => join('scripts/compose-init', f)),
    ].filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const missing = new Set<string>();
    for (const file of files) {
      const code = read(file);
      // Type-only imports vanish at compile time.
      for (const [, typeOnly, spec] of code.matchAll(
        /^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm,
      )) {
        if (typeOnly || spec!.startsWith('.') || spec!.startsWith('node:')) continue;
        const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
        if (!pkg.dependencies[name]) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('runs the app image read-only, without capabilities or privilege escalation', () => {
    for (const name of ['init', 'connect-init', 'app', 'app-embedded']) {
      expect(services[name], name).toMatchObject({
        read_only: true,
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
      });
    }
  });

  it('builds the app image as a non-root user with a healthcheck', () => {
    const dockerfile = parseDockerfile(join(root, 'Dockerfile'));
    expect(dockerfile.stages).toEqual(expect.arrayContaining(['build', 'prod-deps', 'runtime']));
    expect(dockerfile.user).toBe('node');
    expect(dockerfile.hasHealthcheck).toBe(true);
    expect(dockerfile.cmd).toBe('["node", "dist/main.js"]');
  });
});

/**
 * ksql/ as the migrations folder of ksqlDB's `ksql-migrations` tool, and the `ksql-init` script that runs it.
 *
 * The tool's rules, from its source (confluentinc/ksql v7.9.4, ksqldb-tools, MigrationsDirectoryUtil.java): a
 * migration file is named `V<six digits>__<name>.sql` (pattern `V([0-9]{6})__(.+)\.sql`), files are taken in
 * name order, a version must be positive and unique, and a file that does not match is skipped with a warning —
 * so a misnamed statement file would silently not be applied, which these tests turn into a failure.
 *
 * The script is run for real with bash against a stand-in `ksql-migrations` on PATH that behaves as the tool's
 * source says: `info` fails while the tool's metadata stream and table are missing (and, as the tool's own
 * integration test allows for, while the new table does not answer pull queries yet), `initialize-metadata` fails
 * when they exist, `apply` exits with the status the test chooses.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlertRecordSchema } from '../../src/core/alerts/alert-record.js';
import { TOPICS } from '../../src/core/topics.js';
import { formatCopySource, readKsqlObjects } from './ksql-model.js';

const root = join(import.meta.dirname, '..', '..');
const ksqlDir = join(root, 'ksql');
const script = join(root, 'docker/ksql-init/ksql-init.sh');
const MIGRATION_FILE = /^V(\d{6})__([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

describe('ksql/ as the migrations folder', () => {
  const entries = readdirSync(ksqlDir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);

  it('holds only migration files named V<six digits>__<snake_case>.sql, besides the tests/ folder', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(file, 'file name').toMatch(MIGRATION_FILE);
    expect(entries.filter((e) => e.isDirectory()).map((e) => e.name)).toEqual(['tests']);
  });

  it('numbers the versions 1, 2, 3, ... without gaps, so name order is version order and the next file is obvious', () => {
    const versions = [...files].sort().map((f) => Number(MIGRATION_FILE.exec(f)![1]));
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });

  it('applies what the pipeline needs, each object after the ones it reads', () => {
    const objects = readKsqlObjects(ksqlDir);
    expect(objects.map((o) => [o.kind, o.name])).toEqual(
      expect.arrayContaining([
        ['STREAM', 'STREAM_LOCATION'],
        ['STREAM', 'STREAM_STATUS'],
        ['STREAM', 'JOIN_EVENTS'],
        ['TABLE', 'DEVICE_WINAGG_STATUS_PER2S'],
        ['TABLE', 'DEVICE_WINAGG_STATUS_PERDEVICE'],
        ['STREAM', 'STREAM_DEVICE_ALERTS'],
        ['STREAM', 'DEVICE_ALERTS_AVRO'],
      ]),
    );
    objects.forEach((o, i) => {
      const earlier = new Set(objects.slice(0, i).map((e) => e.name));
      for (const source of o.sources) expect(earlier.has(source), `${o.file} reads ${source}`).toBe(true);
    });
    expect(new Set(objects.map((o) => o.name)).size, 'each object is created once').toBe(objects.length);
  });

  it('holds no variable reference (dollar, brace), which ksql-migrations would substitute and fail on', () => {
    for (const file of files) expect(readFileSync(join(ksqlDir, file), 'utf8'), file).not.toMatch(/\$\{/);
  });

  it('is what scripts/ksql-test-runner.sh joins, in the same order', () => {
    const runner = readFileSync(join(root, 'scripts/ksql-test-runner.sh'), 'utf8');
    // A shell glob expands in name order, the tool's order.
    expect(runner).toContain('for file in "$dir"/V*__*.sql; do');
  });
});

/** The ksqlDB type that holds every value a field of the alert record's schema allows, as ksqlDB reads JSON. */
function ksqlTypeOf(field: unknown): string {
  let schema = field as { def: { type: string; innerType?: unknown }; isInt?: boolean };
  while (schema.def.type === 'nullable' || schema.def.type === 'optional')
    schema = schema.def.innerType as typeof schema;
  // An integer must not be read as DOUBLE (the table holds bigint), and a fraction must not be read as BIGINT:
  // ksqlDB's JSON reader would truncate it silently where the embedded sink refuses the record.
  if (schema.def.type === 'number') return schema.isInt ? 'BIGINT' : 'DOUBLE';
  const type = ({ string: 'VARCHAR', enum: 'VARCHAR', boolean: 'BOOLEAN' } as Record<string, string>)[schema.def.type];
  if (!type) throw new Error(`no ksqlDB type for a ${schema.def.type} field`);
  return type;
}

describe('ksql/ over device_alerts (the alert component writes it on both engines)', () => {
  const objects = readKsqlObjects(ksqlDir);
  const over = objects.filter((o) => o.topic === TOPICS.DEVICE_ALERTS);
  const copies = objects.filter((o) => o.topic === TOPICS.DEVICE_ALERTS_AVRO);

  it('declares one stream over the JSON topic: the device id as KAFKA key, then exactly the alert record', () => {
    expect(over.map((o) => [o.kind, o.asSelect])).toEqual([['STREAM', false]]);
    const stream = over[0]!;
    expect(stream.properties).toMatchObject({ KEY_FORMAT: 'KAFKA', VALUE_FORMAT: 'JSON' });
    expect(stream.properties).not.toHaveProperty('TIMESTAMP'); // ROWTIME = the record timestamp (updated_at)
    const keys = stream.declared.filter((c) => c.key);
    expect(keys.map((c) => c.type)).toEqual(['VARCHAR']);
    expect(stream.declared[0]).toBe(keys[0]);
    const value = stream.declared.filter((c) => !c.key);
    const fields = Object.entries(AlertRecordSchema.shape);
    // Same fields in the same order, under ksqlDB's upper-case names (its JSON reader matches names
    // case-insensitively); each typed so that every value the record allows is read unchanged.
    expect(value.map((c) => c.name)).toEqual(fields.map(([name]) => name.toUpperCase()));
    for (const [name, field] of fields) {
      expect(value.find((c) => c.name === name.toUpperCase())?.type, name).toBe(ksqlTypeOf(field));
    }
  });

  it('copies it unchanged to Avro for Kafka Connect, keyed and partitioned as the source', () => {
    expect(copies.map((o) => o.name)).toEqual(['DEVICE_ALERTS_AVRO']);
    const copy = copies[0]!;
    expect(formatCopySource(copy, objects), 'a pure format copy').toBe(over[0]);
    // The key bytes stay the device id, so every revision of an alert stays in one partition; the partition count
    // is the source topic's (ksqlDB's default when PARTITIONS is not given).
    expect(copy.properties).toEqual({
      KAFKA_TOPIC: TOPICS.DEVICE_ALERTS_AVRO,
      KEY_FORMAT: 'KAFKA',
      VALUE_FORMAT: 'AVRO',
    });
    expect(copy.keyColumns()).toEqual(over[0]!.keyColumns());
    expect(objects.filter((o) => o.sources.includes(over[0]!.name))).toEqual([copy]);
  });
});

describe('docker/ksql-init', () => {
  const properties = Object.fromEntries(
    readFileSync(join(root, 'docker/ksql-init/ksql-migrations.properties'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]),
  );

  it("points the tool at the ksqldb-server service and at the mounted ksql/ (the tool's keys)", () => {
    expect(properties).toEqual({
      'ksql.server.url': 'http://ksqldb-server:8088',
      'ksql.migrations.dir.override': '/opt/telemetry/ksql',
      'ksql.migrations.topic.replicas': '1',
    });
  });
});

describe('docker/ksql-init/ksql-init.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ksql-init-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const stub = join(bin, 'ksql-migrations');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(
    stub,
    `#!/usr/bin/env bash
echo "$*" >> "$STUB_STATE/calls"
[ "$1" = --config-file ] || { echo "stub: no --config-file" >&2; exit 64; }
shift 2
case "$1" in
  info)
    [ -f "$STUB_STATE/metadata" ] || exit 1
    left=$(cat "$STUB_STATE/not-ready" 2>/dev/null || echo 0)
    if [ "$left" -gt 0 ]; then echo $((left - 1)) > "$STUB_STATE/not-ready"; exit 1; fi ;;
  initialize-metadata)
    if [ -f "$STUB_STATE/metadata" ]; then echo "Failed to create stream MIGRATION_EVENTS: already exists" >&2; exit 1; fi
    [ "\${STUB_INIT_CREATES:-1}" = 1 ] && touch "$STUB_STATE/metadata" && echo "\${STUB_NOT_READY:-0}" > "$STUB_STATE/not-ready"
    exit "\${STUB_INIT_EXIT:-0}" ;;
  apply) [ "$2" = --all ] || exit 64; exit "\${STUB_APPLY_EXIT:-0}" ;;
  *) exit 64 ;;
esac
`,
  );
  chmodSync(stub, 0o755);

  function run(state: string, env: Record<string, string> = {}) {
    const result = spawnSync('bash', [script], {
      encoding: 'utf8',
      env: { PATH: `${bin}:${process.env['PATH']}`, STUB_STATE: state, KSQL_INIT_POLL_S: '0', ...env },
    });
    const calls = readFileSync(join(state, 'calls'), 'utf8').trim().split('\n');
    return { ...result, calls };
  }
  const fresh = () => mkdtempSync(join(dir, 'state-'));
  const cfg = '--config-file /opt/telemetry/ksql-init/ksql-migrations.properties';

  it('initializes the metadata on a fresh ksqlDB, applies everything, and only applies on the next run', () => {
    const state = fresh();
    const first = run(state);
    expect(first.status, first.stderr).toBe(0);
    expect(first.calls).toEqual([
      `${cfg} info`,
      `${cfg} initialize-metadata`,
      `${cfg} info`, // the new metadata table answers
      `${cfg} apply --all`,
      `${cfg} info`,
    ]);
    writeFileSync(join(state, 'calls'), '');
    const second = run(state);
    expect(second.status, second.stderr).toBe(0);
    expect(second.calls.filter(Boolean)).toEqual([`${cfg} info`, `${cfg} apply --all`, `${cfg} info`]);
  });

  it('reads the properties file named by KSQL_MIGRATIONS_CONFIG', () => {
    const result = run(fresh(), { KSQL_MIGRATIONS_CONFIG: '/elsewhere.properties' });
    expect(result.calls.every((c) => c.startsWith('--config-file /elsewhere.properties '))).toBe(true);
  });

  it('waits until the new metadata table answers before it applies', () => {
    const result = run(fresh(), { STUB_NOT_READY: '2' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.slice(1, 6)).toEqual([
      `${cfg} initialize-metadata`,
      `${cfg} info`, // not queryable yet
      `${cfg} info`, // not queryable yet
      `${cfg} info`,
      `${cfg} apply --all`,
    ]);
  });

  it('goes on when initialize-metadata failed but the metadata exists after all', () => {
    const result = run(fresh(), { STUB_INIT_EXIT: '1' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain(`${cfg} apply --all`);
  });

  it('fails after its bounded wait when initialize-metadata failed and the metadata is missing', () => {
    const result = run(fresh(), {
      STUB_INIT_EXIT: '1',
      STUB_INIT_CREATES: '0',
      KSQL_INIT_WAIT_S: '1',
      KSQL_INIT_POLL_S: '1',
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/ksql-init: initialize-metadata failed; waiting in case the metadata exists/);
    expect(result.stderr).toMatch(/ksql-init: the migrations metadata is not queryable after 1 s/);
    expect(result.calls).not.toContain(`${cfg} apply --all`);
  });

  it('fails naming apply when a migration fails', () => {
    const result = run(fresh(), { STUB_APPLY_EXIT: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ksql-init: apply failed/);
  });
});

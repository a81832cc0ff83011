import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from './infra/common.js';
import { connectionSettings, kafkaProperties, loadInfraSettings, postgresBinDir, requireTool } from './infra.js';

describe('infrastructure settings', () => {
  it('defaults to loopback ports that match the application defaults', () => {
    const s = loadInfraSettings({});
    expect(connectionSettings(s)).toEqual({
      KAFKA_BROKERS: '127.0.0.1:9092',
      DATABASE_URL: 'postgres://telemetry@127.0.0.1:5433/telemetry',
    });
  });

  it('rejects an invalid port with a message naming the variable', () => {
    expect(() => loadInfraSettings({ INFRA_PG_PORT: 'x' })).toThrow(/INFRA_PG_PORT/);
  });
});

describe('missing binaries', () => {
  let path: string | undefined;
  let empty: string;
  beforeEach(() => {
    path = process.env['PATH'];
    empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
    process.env['PATH'] = empty;
  });
  afterEach(() => {
    process.env['PATH'] = path;
    rmSync(empty, { recursive: true, force: true });
  });

  it('names the package to install when java or maven is missing', () => {
    expect(() => requireTool('java', 'apt-get install -y openjdk-17-jre-headless')).toThrow(
      "'java' was not found on PATH. Install it with: apt-get install -y openjdk-17-jre-headless",
    );
    expect(() => requireTool('mvn', 'apt-get install -y maven')).toThrow(/apt-get install -y maven/);
  });

  it('names the package to install when PostgreSQL server binaries are missing', () => {
    expect(() => postgresBinDir(join(empty, 'postgresql'))).toThrow(
      /initdb, pg_ctl\) were not found\. Install them with: apt-get update && apt-get install -y postgresql/,
    );
  });
});

describe('the local broker configuration', () => {
  it('bounds every topic by size per partition, in small segments, and never by age', async () => {
    const { readFileSync } = await import('node:fs');
    const template = readFileSync(join(projectRoot, 'infra/kafka/server.properties'), 'utf8');
    const text = kafkaProperties(loadInfraSettings({ INFRA_DIR: '/tmp/x' }), template);
    const props = new Map(
      text
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.split('=', 2) as [string, string]),
    );
    expect(props.get('log.retention.bytes')).toBe('1073741824');
    expect(props.get('log.segment.bytes')).toBe('134217728');
    // Fixed-epoch test records must survive; the app's topics carry their own retention.ms.
    expect(props.get('log.retention.hours')).toBe('-1');
    expect(props.get('log.dirs')).toBe('/tmp/x/kafka/data');
    const small = kafkaProperties(loadInfraSettings({ INFRA_KAFKA_RETENTION_BYTES: '2097152' }), template);
    expect(small).toContain('\nlog.retention.bytes=2097152\n');
  });
});

import { describe, expect, it } from 'vitest';
import { withConfigTable } from '../scripts/config-table.js';
import { describeConfig, isTileUrlTemplate, loadConfig, tileOrigin } from './config.js';
import { ConfigError } from './errors.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.DATABASE_URL).toBe('postgres://telemetry@127.0.0.1:5433/telemetry');
    expect(config.KAFKA_TOPIC_PARTITIONS).toBe(3);
    expect(config.ENGINE).toBe('embedded');
  });

  it('parses lists, numbers and booleans', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', PORT: '9000', KAFKA_CREATE_TOPICS: 'false' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(config.PORT).toBe(9000);
    expect(config.KAFKA_CREATE_TOPICS).toBe(false);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(8080);
  });

  it('lists every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', KAFKA_BROKERS: 'nohost', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL', 'PORT']);
    expect((error as ConfigError).message).toContain('PORT');
  });

  it('documents every variable with a description', () => {
    const table = describeConfig();
    expect(table.length).toBeGreaterThan(10);
    for (const row of table) expect(row.description, row.name).not.toBe('');
  });
});

describe('the README', () => {
  it('documents every environment variable the app reads, with its default', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const row of describeConfig()) {
      expect(readme, row.name).toContain(`| \`${row.name}\` | \`${row.default}\` |`);
    }
    // The whole table is generated: `npm run docs:config` rewrites it.
    expect(withConfigTable(readme), 'README.md is stale: run npm run docs:config').toBe(readme);
  });
});

describe('cross-variable rules', () => {
  it('refuses a future bound beyond the window grace, naming the variable', () => {
    expect(() => loadConfig({ PROCESSOR_GRACE_MS: '10000', PROCESSOR_MAX_FUTURE_MS: '20000' })).toThrow(
      /PROCESSOR_MAX_FUTURE_MS: must not exceed PROCESSOR_GRACE_MS \(10000\)/,
    );
    expect(loadConfig({ PROCESSOR_GRACE_MS: '10000', PROCESSOR_MAX_FUTURE_MS: '10000' }).PROCESSOR_MAX_FUTURE_MS).toBe(
      10_000,
    );
  });

  it('refuses a stream-layer horizon shorter than the windows it keeps, but accepts 0 (full replay)', () => {
    expect(() => loadConfig({ STREAM_WINDOWS_PER_DEVICE: '2000', STREAM_WINDOWS_HORIZON_MS: '3000000' })).toThrow(
      /STREAM_WINDOWS_HORIZON_MS: must be 0 or at least STREAM_WINDOWS_PER_DEVICE × 2000 \(4000000\)/,
    );
    expect(
      loadConfig({ STREAM_WINDOWS_PER_DEVICE: '2000', STREAM_WINDOWS_HORIZON_MS: '0' }).STREAM_WINDOWS_HORIZON_MS,
    ).toBe(0);
    expect(loadConfig({}).STREAM_WINDOWS_HORIZON_MS).toBeGreaterThanOrEqual(
      loadConfig({}).STREAM_WINDOWS_PER_DEVICE * 2000,
    );
  });
});

describe('retention', () => {
  it('defaults to 7 days, accepts -1 (forever) and refuses anything below an hour', () => {
    expect(loadConfig({}).KAFKA_RETENTION_MS).toBe(604_800_000);
    expect(loadConfig({ KAFKA_RETENTION_MS: '-1' }).KAFKA_RETENTION_MS).toBe(-1);
    expect(() => loadConfig({ KAFKA_RETENTION_MS: '60000' })).toThrow(/KAFKA_RETENTION_MS/);
  });
});

describe('the map tile settings', () => {
  it('accepts an http(s) template with {z}, {x} and {y}, and names its origin', () => {
    const config = loadConfig({ MAP_TILE_URL: 'https://tiles.example.org/base/{z}/{x}/{y}.png' });
    expect(config.MAP_TILE_URL).toBe('https://tiles.example.org/base/{z}/{x}/{y}.png');
    expect(tileOrigin(config.MAP_TILE_URL as string)).toBe('https://tiles.example.org');
    expect(loadConfig({}).MAP_TILE_URL).toBeUndefined();
  });

  it('refuses a template without every placeholder, with subdomains or another scheme', () => {
    for (const bad of [
      'https://tiles.example.org/{z}/{x}.png',
      'https://{s}.tiles.example.org/{z}/{x}/{y}.png',
      'ftp://tiles.example.org/{z}/{x}/{y}.png',
      'not a url {z}{x}{y}',
    ]) {
      expect(isTileUrlTemplate(bad), bad).toBe(false);
      expect(() => loadConfig({ MAP_TILE_URL: bad }), bad).toThrow(/MAP_TILE_URL/);
    }
  });
});

/**
 * Runs every ksql-test-runner case in `ksql/tests/` through the TypeScript topology the way ksqlDB's test
 * tools do (ksqldb-semantics.md §6): inputs fed one by one in file order, every update emitted (cache size 0),
 * ksqlDB's default grace, and only the topics named in `output.json` compared — same count, same order, same
 * keys, timestamps and windows, the same value fields, doubles within 1e-6.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLocation, decodeStatus } from '../../src/core/decode.js';
import { KSQLDB_DEFAULTS } from '../../src/core/stream-time.js';
import { PartitionTopology } from '../../src/core/topology.js';

interface VectorRecord {
  topic: string;
  key?: string;
  value: Record<string, unknown>;
  timestamp?: number;
  window?: { start: number; end: number; type: string };
}

const casesDir = new URL('../../ksql/tests/', import.meta.url).pathname;
const cases = readdirSync(casesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function run(inputs: VectorRecord[]): VectorRecord[] {
  const out: VectorRecord[] = [];
  const topology = new PartitionTopology(KSQLDB_DEFAULTS, {
    joinRow: (key, timestamp, value) => out.push({ topic: 'JOIN_EVENTS', key, value: { ...value }, timestamp }),
    windowUpdate: (key, window, timestamp, snapshot) =>
      out.push({
        topic: 'DEVICE_WINAGG_STATUS_PER2S',
        key,
        value: { ...snapshot() },
        timestamp,
        window: { start: window.start, end: window.end, type: 'time' },
      }),
    deviceUpdate: (key, timestamp, snapshot) =>
      out.push({ topic: 'DEVICE_WINAGG_STATUS_PERDEVICE', key, value: { ...snapshot() }, timestamp }),
  });
  for (const [offset, input] of inputs.entries()) {
    const raw = JSON.stringify(input.value);
    if (input.topic === 'device_location') {
      const decoded = decodeLocation(raw);
      if (decoded.ok) topology.processLocation(decoded.event, offset);
    } else if (input.topic === 'device_status') {
      const decoded = decodeStatus(raw);
      if (decoded.ok) topology.processStatus(decoded.event, offset);
    } else {
      throw new Error(`unexpected input topic ${input.topic}`);
    }
  }
  return out;
}

/** ksqlDB's comparator: same field set, doubles within 1e-6 absolute, everything else equal. */
function expectSameValue(actual: Record<string, unknown>, expected: Record<string, unknown>, where: string): void {
  expect(Object.keys(actual).sort(), `${where}: value fields`).toEqual(Object.keys(expected).sort());
  for (const [field, want] of Object.entries(expected)) {
    const got = actual[field];
    if (typeof want === 'number' && typeof got === 'number') {
      expect(Math.abs(got - want), `${where}: ${field} = ${got}, expected ${want}`).toBeLessThanOrEqual(1e-6);
    } else {
      expect(got, `${where}: ${field}`).toEqual(want);
    }
  }
}

describe('ksql-test-runner vectors against the TypeScript topology', () => {
  it('finds the vector cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(9);
  });

  for (const name of cases) {
    it(`reproduces ${name}`, () => {
      const { inputs } = JSON.parse(readFileSync(join(casesDir, name, 'input.json'), 'utf8')) as {
        inputs: VectorRecord[];
      };
      const { outputs } = JSON.parse(readFileSync(join(casesDir, name, 'output.json'), 'utf8')) as {
        outputs: VectorRecord[];
      };
      const actual = run(inputs);
      const topics = new Set(outputs.map((o) => o.topic));
      for (const topic of topics) {
        const want = outputs.filter((o) => o.topic === topic);
        const got = actual.filter((o) => o.topic === topic);
        expect(got.length, `${topic}: number of records`).toBe(want.length);
        want.forEach((w, i) => {
          const g = got[i] as VectorRecord;
          const where = `${topic}[${i}]`;
          expect(g.key, `${where}: key`).toBe(w.key);
          expect(g.timestamp, `${where}: timestamp`).toBe(w.timestamp);
          if (w.window) expect(g.window, `${where}: window`).toEqual(w.window);
          expectSameValue(g.value, w.value, where);
        });
      }
    });
  }
});

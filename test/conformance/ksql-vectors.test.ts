/**
 * Runs every ksql-test-runner case in `ksql/tests/` through the TypeScript topology the way ksqlDB's test
 * tools do (ksqldb-semantics.md §6): inputs fed one by one in file order, every update emitted (cache size 0),
 * ksqlDB's default grace, and only the topics named in `output.json` compared — same count, same order, same
 * keys, timestamps and windows, the same value fields, doubles within 1e-6.
 *
 * Pure format copies. Besides the statements the topology reproduces, ksql/ holds streams that only re-serialize
 * a topic for Kafka Connect (`device_alerts_avro`: device_alerts as Avro; `formatCopySource` in
 * test/deployment/ksql-model.ts says which statements qualify). The embedded engine has no counterpart and needs
 * none: its sink reads the source topic itself. The runner therefore reproduces such a copy by what the embedded
 * sink decodes from each input record (its own decoder: same key, same timestamp, the decoded record's fields
 * under ksqlDB's upper-case column names), so a vector of the copy pins down that ksqlDB hands Kafka Connect
 * exactly what the embedded sink stores. An input record the embedded sink refuses fails the case: ksqlDB would
 * still copy it, so the engines would differ there, and such records have no place in a vector.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeAlertRecord } from '../../src/core/alerts/alert-record.js';
import { decodeLocation, decodeStatus } from '../../src/core/decode.js';
import { KSQLDB_DEFAULTS } from '../../src/core/stream-time.js';
import { SOURCE_TOPICS, TOPICS } from '../../src/core/topics.js';
import { PartitionTopology } from '../../src/core/topology.js';
import { formatCopySource, type KsqlObject, readKsqlObjects } from '../deployment/ksql-model.js';

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

/** The topics the topology writes, one per statement it reproduces. */
const TOPOLOGY_OUTPUTS: string[] = [
  TOPICS.JOIN_EVENTS,
  TOPICS.DEVICE_WINAGG_STATUS_PER2S,
  TOPICS.DEVICE_WINAGG_STATUS_PERDEVICE,
];

type Decoded = { ok: true; record: Record<string, unknown> } | { ok: false; reason: string };
/** How the embedded sink decodes each topic it reads directly (the sources of format copies). */
const EMBEDDED_SINK_DECODERS: Record<string, (key: Buffer | null, value: Buffer) => Decoded> = {
  [TOPICS.DEVICE_ALERTS]: (key, value) => {
    const decoded = decodeAlertRecord(key, value);
    return decoded.ok ? { ok: true, record: decoded.alert } : decoded;
  },
};

const ksqlObjects = readKsqlObjects(new URL('../../ksql/', import.meta.url).pathname);
const formatCopies = ksqlObjects.flatMap((copy) => {
  const source = formatCopySource(copy, ksqlObjects);
  return source ? [{ copy, source }] : [];
});

/** A format copy's record as the embedded engine has it: the embedded sink's decoding of the input. */
function copyRecord(copy: KsqlObject, input: VectorRecord): VectorRecord {
  const decode = EMBEDDED_SINK_DECODERS[input.topic]!;
  const decoded = decode(
    input.key === undefined ? null : Buffer.from(input.key),
    Buffer.from(JSON.stringify(input.value)),
  );
  if (!decoded.ok) throw new Error(`the embedded sink refuses a ${input.topic} input (${decoded.reason})`);
  const keys = copy.keyColumns();
  const value: Record<string, unknown> = {};
  for (const column of copy.columns().filter((c) => !keys.includes(c))) {
    // ksqlDB's JSON reader matches field names case-insensitively; a field the record lacks is null.
    const field = Object.keys(decoded.record).find((f) => f.toUpperCase() === column);
    value[column] = field === undefined ? null : decoded.record[field];
  }
  return {
    topic: copy.topic,
    ...(input.key === undefined ? {} : { key: input.key }),
    value,
    timestamp: input.timestamp ?? 0,
  };
}

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
      const copies = formatCopies.filter((c) => c.source.topic === input.topic);
      if (copies.length === 0) throw new Error(`unexpected input topic ${input.topic}`);
      for (const { copy } of copies) out.push(copyRecord(copy, input));
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
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  it('covers every ksql/ statement: reproduced by the topology, or a format copy of a topic the embedded sink reads', () => {
    for (const object of ksqlObjects) {
      const copy = formatCopies.find((c) => c.copy === object);
      if (copy) {
        expect(EMBEDDED_SINK_DECODERS, `the embedded sink reads ${copy.source.topic} itself`).toHaveProperty(
          copy.source.topic,
        );
      } else if (object.asSelect) {
        expect(TOPOLOGY_OUTPUTS, `${object.name} is reproduced by the topology`).toContain(object.topic);
      } else {
        const read = [...SOURCE_TOPICS, ...formatCopies.map((c) => c.source.topic)];
        expect(read, `${object.name}'s topic is an input of the runner`).toContain(object.topic);
      }
    }
    expect(formatCopies.map((c) => c.copy.topic)).toEqual([TOPICS.DEVICE_ALERTS_AVRO]);
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

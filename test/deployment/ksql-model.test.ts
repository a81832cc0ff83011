/**
 * The static ksql model the deployment and conformance tests rely on: declared columns and keys, the key of a
 * projection, and what counts as a pure format copy (anything else a query does must not pass for one).
 */
import { describe, expect, it } from 'vitest';
import { formatCopySource, parseKsqlScripts } from './ksql-model.js';

const SOURCE = `-- a comment with an apostrophe: the source's key
CREATE STREAM src (k VARCHAR KEY, a BIGINT, \`TYPE\` VARCHAR, d DECIMAL(4, 2))
  WITH (KAFKA_TOPIC = 'src_topic', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON', PARTITIONS = 3);`;
const objects = (query: string) =>
  parseKsqlScripts([
    { file: 'V1.sql', text: SOURCE },
    { file: 'V2.sql', text: query },
  ]);
const copyOf = (query: string) => {
  const all = objects(query);
  return formatCopySource(all[1]!, all)?.name;
};

describe('parseKsqlScripts', () => {
  it('reads declared columns with types and keys, and the WITH properties', () => {
    const [src] = objects("CREATE STREAM c WITH (VALUE_FORMAT='AVRO') AS SELECT k, a, `TYPE`, d FROM src;");
    expect(src!.declared).toEqual([
      { name: 'K', type: 'VARCHAR', key: true },
      { name: 'A', type: 'BIGINT', key: false },
      { name: 'TYPE', type: 'VARCHAR', key: false },
      { name: 'D', type: 'DECIMAL(4, 2)', key: false },
    ]);
    expect(src!.columns()).toEqual(['K', 'A', 'TYPE', 'D']);
    expect(src!.keyColumns()).toEqual(['K']);
    expect(src!.topic).toBe('src_topic');
    expect(src!.properties).toEqual({
      KAFKA_TOPIC: 'src_topic',
      KEY_FORMAT: 'KAFKA',
      VALUE_FORMAT: 'JSON',
      PARTITIONS: '3',
    });
  });

  it('gives a stream projection the key columns of its source that it selects', () => {
    const [, copy] = objects("CREATE STREAM c WITH (VALUE_FORMAT='AVRO') AS SELECT k, a FROM src EMIT CHANGES;");
    expect(copy!.keyColumns()).toEqual(['K']);
    expect(copy!.topic).toBe('C');
    const [, joined] = objects(
      'CREATE STREAM j AS SELECT s.k, t.a FROM src s JOIN src t WITHIN 1 SECOND ON s.k = t.k;',
    );
    expect(() => joined!.keyColumns()).toThrow(/does not work out the key/);
  });
});

describe('formatCopySource', () => {
  it('recognizes a stream that selects every column of a declared stream, in order, and nothing else', () => {
    expect(copyOf("CREATE STREAM c WITH (VALUE_FORMAT='AVRO') AS SELECT k, a, `TYPE`, d FROM src EMIT CHANGES;")).toBe(
      'SRC',
    );
    expect(copyOf('CREATE STREAM c AS SELECT s.k, s.a, s.`TYPE`, s.d FROM src s;')).toBe('SRC');
  });

  it.each([
    ['a filter', 'CREATE STREAM c AS SELECT k, a, `TYPE`, d FROM src WHERE a > 0;'],
    ['a computed column', 'CREATE STREAM c AS SELECT k, a + 1 AS a, `TYPE`, d FROM src;'],
    ['a renamed column', 'CREATE STREAM c AS SELECT k, a AS b, `TYPE`, d FROM src;'],
    ['a missing column', 'CREATE STREAM c AS SELECT k, a, `TYPE` FROM src;'],
    ['another order', 'CREATE STREAM c AS SELECT k, `TYPE`, a, d FROM src;'],
    ['a re-key', 'CREATE STREAM c AS SELECT k, a, `TYPE`, d FROM src PARTITION BY a;'],
    ['a star', 'CREATE STREAM c AS SELECT * FROM src;'],
    ['a table', 'CREATE TABLE c AS SELECT k, COUNT(*) AS n FROM src GROUP BY k;'],
  ])('refuses %s', (_what, query) => {
    expect(copyOf(query)).toBeUndefined();
  });
});

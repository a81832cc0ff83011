import { describe, expect, it } from 'vitest';
import {
  classifyStatement,
  describeCreates,
  isAlreadyExistsError,
  KsqlPlanError,
  parseStatementFiles,
  planStatements,
  splitStatements,
} from './ksql-statements.js';

const LOCATION = `-- the location source
CREATE STREAM stream_location (latitude DOUBLE, longitude DOUBLE, event_ts BIGINT, ID VARCHAR, device_id VARCHAR)
  WITH (KAFKA_TOPIC = 'device_location', VALUE_FORMAT = 'JSON', TIMESTAMP = 'event_ts');
`;
const PER2S = `CREATE TABLE device_winagg_status_per2s WITH (KEY_FORMAT = 'AVRO', VALUE_FORMAT = 'AVRO') AS
SELECT CONCAT(CAST(DEVICE_ID AS STRING), '_', CAST(WINDOWSTART AS STRING)) AS ID, AS_VALUE(DEVICE_ID) AS "dev_id",
  COUNT(*) AS event_count
FROM JOIN_EVENTS WINDOW TUMBLING (SIZE 2 SECONDS) GROUP BY DEVICE_ID EMIT CHANGES;`;

describe('splitStatements', () => {
  it('splits at statement-ending semicolons and keeps the text of each statement', () => {
    const parts = splitStatements(`${LOCATION}\n${PER2S}\n`);
    expect(parts).toHaveLength(2);
    expect(parts[0]!.text.startsWith('-- the location source\nCREATE STREAM stream_location')).toBe(true);
    expect(parts[0]!.text.endsWith(`TIMESTAMP = 'event_ts');`)).toBe(true);
    expect(parts[1]!.normalized.startsWith('CREATE TABLE device_winagg_status_per2s WITH')).toBe(true);
  });

  it('ignores semicolons inside strings, quoted identifiers and comments', () => {
    const sql = `CREATE STREAM a (x VARCHAR) WITH (KAFKA_TOPIC='t;1', VALUE_FORMAT='JSON'); -- c; d
/* block; comment */ CREATE STREAM "we;ird" AS SELECT 'it''s;' AS s, \`b;c\` FROM a;`;
    const parts = splitStatements(sql);
    expect(parts.map((p) => p.normalized)).toEqual([
      "CREATE STREAM a (x VARCHAR) WITH (KAFKA_TOPIC='t;1', VALUE_FORMAT='JSON');",
      `CREATE STREAM "we;ird" AS SELECT 'it''s;' AS s, \`b;c\` FROM a;`,
    ]);
  });

  it('drops comment-only chunks and rejects an unterminated statement', () => {
    expect(splitStatements('-- only a comment\n/* and another */\n')).toEqual([]);
    expect(() => splitStatements("CREATE STREAM a (x INT) WITH (KAFKA_TOPIC='a')")).toThrow(KsqlPlanError);
    expect(() => splitStatements("CREATE STREAM a WITH (KAFKA_TOPIC='a);")).toThrow(/unterminated ' literal/);
    expect(() => splitStatements('/* never closed')).toThrow(/unterminated/);
  });
});

describe('classifyStatement', () => {
  it('upper-cases unquoted names and keeps quoted ones', () => {
    expect(classifyStatement('CREATE STREAM join_events AS SELECT 1 FROM x;')).toEqual({
      kind: 'create',
      objectKind: 'STREAM',
      name: 'JOIN_EVENTS',
      ifNotExists: false,
      orReplace: false,
    });
    expect(classifyStatement('create or replace table if not exists `Mixed` AS SELECT 1 FROM x;')).toEqual({
      kind: 'create',
      objectKind: 'TABLE',
      name: 'Mixed',
      ifNotExists: true,
      orReplace: true,
    });
    expect(classifyStatement('CREATE SOURCE TABLE "quo""ted" (k VARCHAR PRIMARY KEY) WITH (x=1);')).toMatchObject({
      objectKind: 'TABLE',
      name: 'quo"ted',
    });
  });

  it('reads SET and UNSET as session properties', () => {
    expect(classifyStatement("SET 'auto.offset.reset' = 'earliest';")).toEqual({
      kind: 'set',
      property: 'auto.offset.reset',
      value: 'earliest',
    });
    expect(classifyStatement("UNSET 'auto.offset.reset';")).toEqual({ kind: 'unset', property: 'auto.offset.reset' });
  });

  it('refuses statements that are not idempotent', () => {
    for (const s of ['INSERT INTO a SELECT * FROM b;', 'DROP STREAM a;', 'TERMINATE ALL;']) {
      expect(() => classifyStatement(s)).toThrow(/not an idempotent statement/);
    }
  });
});

describe('parseStatementFiles', () => {
  it('orders files by name and names the file of a bad statement', () => {
    const statements = parseStatementFiles([
      { name: '20_per2s.sql', text: PER2S },
      { name: '10_location.sql', text: LOCATION },
    ]);
    expect(statements.map((s) => [s.file, s.target.kind === 'create' ? s.target.name : ''])).toEqual([
      ['10_location.sql', 'STREAM_LOCATION'],
      ['20_per2s.sql', 'DEVICE_WINAGG_STATUS_PER2S'],
    ]);
    expect(() => parseStatementFiles([{ name: '30_bad.sql', text: 'DROP TABLE x;' }])).toThrow(/30_bad\.sql/);
    expect(() => parseStatementFiles([{ name: '40_empty.sql', text: '-- nothing\n' }])).toThrow(/no statement/);
  });
});

describe('planStatements', () => {
  const statements = parseStatementFiles([
    { name: '00_props.sql', text: "SET 'auto.offset.reset'='earliest';" },
    { name: '10_location.sql', text: LOCATION },
    { name: '20_per2s.sql', text: PER2S },
  ]);

  it('applies everything on an empty ksqlDB, with SET folded into the properties', () => {
    const plan = planStatements(statements, { streams: new Set(), tables: new Set() }, { 'x.y': '1' });
    expect(plan.map((p) => p.action)).toEqual(['skip', 'apply', 'apply']);
    expect(plan[1]!.properties).toEqual({ 'x.y': '1', 'auto.offset.reset': 'earliest' });
  });

  it('skips what exists, so a second run applies nothing', () => {
    const plan = planStatements(statements, {
      streams: new Set(['STREAM_LOCATION']),
      tables: new Set(['DEVICE_WINAGG_STATUS_PER2S']),
    });
    expect(plan.filter((p) => p.action === 'apply')).toEqual([]);
    expect(plan[2]!.reason).toBe('TABLE DEVICE_WINAGG_STATUS_PER2S exists');
  });

  it('applies only the missing objects after a partial run', () => {
    const plan = planStatements(statements, { streams: new Set(['STREAM_LOCATION']), tables: new Set() });
    expect(plan.filter((p) => p.action === 'apply').map((p) => p.statement.file)).toEqual(['20_per2s.sql']);
  });

  it('fails when a name exists as the other kind or is created twice', () => {
    expect(() =>
      planStatements(statements, { streams: new Set(['DEVICE_WINAGG_STATUS_PER2S']), tables: new Set() }),
    ).toThrow(/should be a TABLE but ksqlDB has a STREAM/);
    const twice = parseStatementFiles([
      { name: 'a.sql', text: LOCATION },
      { name: 'b.sql', text: LOCATION },
    ]);
    expect(() => planStatements(twice, { streams: new Set(), tables: new Set() })).toThrow(/created twice/);
  });

  it('UNSET removes a property for the statements after it', () => {
    const withUnset = parseStatementFiles([
      { name: 'a.sql', text: "SET 'p'='1'; UNSET 'p';" },
      { name: 'b.sql', text: LOCATION },
    ]);
    const plan = planStatements(withUnset, { streams: new Set(), tables: new Set() });
    expect(plan[2]!.properties).toEqual({});
  });
});

describe('describeCreates', () => {
  it('finds topics (explicit or default) and the sources of persistent queries', () => {
    const infos = describeCreates(
      parseStatementFiles([
        { name: '10.sql', text: LOCATION },
        {
          name: '20.sql',
          text: 'CREATE STREAM JOIN_EVENTS AS SELECT * FROM STREAM_LOCATION AS SL LEFT JOIN stream_status AS SS WITHIN 2 SECONDS ON SL.DEVICE_ID = SS.DEVICE_ID EMIT CHANGES;',
        },
        { name: '30.sql', text: PER2S },
      ]),
    );
    expect(infos).toEqual([
      {
        kind: 'STREAM',
        name: 'STREAM_LOCATION',
        file: '10.sql',
        topic: 'device_location',
        asSelect: false,
        sources: [],
        columns: [],
        keyColumns: [],
      },
      {
        kind: 'STREAM',
        name: 'JOIN_EVENTS',
        file: '20.sql',
        topic: 'JOIN_EVENTS',
        asSelect: true,
        sources: ['STREAM_LOCATION', 'STREAM_STATUS'],
        columns: ['*'],
        keyColumns: [],
      },
      {
        kind: 'TABLE',
        name: 'DEVICE_WINAGG_STATUS_PER2S',
        file: '30.sql',
        topic: 'DEVICE_WINAGG_STATUS_PER2S',
        asSelect: true,
        sources: ['JOIN_EVENTS'],
        columns: ['ID', 'dev_id', 'EVENT_COUNT'],
        keyColumns: ['DEVICE_ID'],
      },
    ]);
  });
});

describe('describeCreates columns', () => {
  it('names select items by alias, by column reference, and keeps quoted names', () => {
    const [info] = describeCreates(
      parseStatementFiles([
        {
          name: 'x.sql',
          text: `CREATE TABLE t AS SELECT SL.ID ID, SL.DEVICE_ID, GEO_DISTANCE(SL.A, SL.B, 9.0, 107.0) DISTANCE,
            CONCAT(X, ',', Y) AS "mixed_Case", \`quoted\`, WINDOWSTART AS WINDOW_START
            FROM s SL WINDOW TUMBLING (SIZE 2 SECONDS) GROUP BY SL.DEVICE_ID, K2 EMIT CHANGES;`,
        },
      ]),
    );
    expect(info!.columns).toEqual(['ID', 'DEVICE_ID', 'DISTANCE', 'mixed_Case', 'quoted', 'WINDOW_START']);
    expect(info!.keyColumns).toEqual(['DEVICE_ID', 'K2']);
  });

  it('asks for an alias where it cannot name an expression', () => {
    const files = [{ name: 'x.sql', text: 'CREATE STREAM t AS SELECT A + 1 FROM s;' }];
    expect(() => describeCreates(parseStatementFiles(files))).toThrow(/give it an alias/);
  });
});

describe('isAlreadyExistsError', () => {
  it('recognises the race with another init', () => {
    expect(isAlreadyExistsError('Cannot add stream `JOIN_EVENTS`: A stream with the same name already exists.')).toBe(
      true,
    );
    expect(isAlreadyExistsError('Kafka topic does not exist: device_location')).toBe(false);
  });
});

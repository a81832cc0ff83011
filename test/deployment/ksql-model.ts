/**
 * What the ksql/ statements create and read, worked out statically for the deployment tests: the object each
 * CREATE makes, its Kafka topic and WITH properties, the streams and tables it reads, its declared columns or the
 * output columns of a `... AS SELECT`, which of them are in the Kafka key, and whether a query is a pure format
 * copy of a declared stream.
 * At run time ksqlDB parses the files (through ksql-migrations); this model only lets CI compare them with the
 * topics the init creates, the connector configs and the migrated tables. It refuses what it does not understand
 * (a statement other than CREATE STREAM/TABLE, a select item without a name) instead of guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A column of a CREATE STREAM/TABLE's element list. */
export interface KsqlColumn {
  /** As ksqlDB stores it: unquoted names upper-cased. */
  name: string;
  /** The SQL type as written, upper-cased and with single spaces (`BIGINT`, `VARCHAR`, `DECIMAL(4,2)`). */
  type: string;
  /** Declared `KEY` (stream) or `PRIMARY KEY` (table): in the Kafka key, not in the value. */
  key: boolean;
}

export interface KsqlObject {
  file: string;
  kind: 'STREAM' | 'TABLE';
  /** As ksqlDB stores it: unquoted names upper-cased. */
  name: string;
  /** `KAFKA_TOPIC` when given, else ksqlDB's default, the object name. */
  topic: string;
  /** The object's own WITH properties (`KAFKA_TOPIC`, `VALUE_FORMAT`, ...), names upper-cased, values unquoted. */
  properties: Record<string, string>;
  /** A persistent query (`CREATE ... AS SELECT`) that writes `topic`. */
  asSelect: boolean;
  /** Streams and tables named after FROM or JOIN. */
  sources: string[];
  /** The query from `AS SELECT` on, whitespace collapsed; empty for a declared stream or table. */
  query: string;
  /** The element list of a declared stream or table (no AS SELECT); empty for a query's output. */
  declared: KsqlColumn[];
  /** Output columns: the SELECT list in order (throws when an item has no name), or the declared columns. */
  columns(): string[];
  /**
   * The columns in the Kafka key, not in the record value: the declared KEY columns; a table query's GROUP BY
   * columns; for a stream query without JOIN or PARTITION BY, the key columns of its source that it selects (a
   * projection keeps the key). Throws for the stream queries it does not model (a JOIN, a PARTITION BY).
   */
  keyColumns(): string[];
}

/** Index of the quote that closes the one at `open` (a doubled quote is an escaped one). */
function closingQuote(text: string, open: number): number {
  const quote = text[open]!;
  for (let j = open + 1; j < text.length; j += 1) {
    if (text[j] !== quote) continue;
    if (text[j + 1] !== quote) return j;
    j += 1;
  }
  throw new Error(`unterminated ${quote} in: ${text.slice(open, open + 40)}`);
}

/** Calls `visit` for every character outside quotes with the parenthesis depth there. */
function scan(text: string, visit: (i: number, depth: number) => void): void {
  let depth = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = closingQuote(text, i);
      continue;
    }
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    visit(i, depth);
  }
}

/** Splits at the commas outside parentheses and quotes. */
export function splitTopLevel(text: string): string[] {
  const cuts: number[] = [];
  scan(text, (i, depth) => {
    if (text[i] === ',' && depth === 0) cuts.push(i);
  });
  const bounds = [-1, ...cuts, text.length];
  return bounds
    .slice(1)
    .map((end, k) => text.slice(bounds[k]! + 1, end).trim())
    .filter(Boolean);
}

/** The statements of a script: `--` comments dropped, split at the semicolons outside quotes, whitespace collapsed. */
export function statementsOf(script: string): string[] {
  const code = script
    .split('\n')
    .map((line) => line.replace(/^\s*--.*$/, ''))
    .join('\n');
  if (/--/.test(code.replace(/'[^']*'/g, '')))
    throw new Error('a trailing -- comment: put comments on lines of their own');
  const cuts: number[] = [];
  scan(code, (i) => {
    if (code[i] === ';') cuts.push(i);
  });
  const rest = code.slice((cuts.at(-1) ?? -1) + 1).trim();
  if (rest !== '') throw new Error(`statement without a terminating ';': ${rest.slice(0, 60)}`);
  const bounds = [-1, ...cuts];
  return cuts
    .map((end, k) =>
      code
        .slice(bounds[k]! + 1, end)
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter(Boolean);
}

const IDENT = String.raw`(\`(?:[^\`]|\`\`)+\`|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@]*)`;
const CREATE_RE = new RegExp(
  String.raw`^CREATE\s+(?:OR\s+REPLACE\s+)?(?:SOURCE\s+)?(STREAM|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?${IDENT}`,
  'i',
);
const SOURCE_RE = new RegExp(String.raw`\b(?:FROM|JOIN)\s+${IDENT}`, 'gi');
const ALIAS_RE = new RegExp(String.raw`(?:\bAS\s+|\s)${IDENT}$`, 'i');
const COLUMN_REF_RE = new RegExp(String.raw`^(?:${IDENT}\.)?${IDENT}$`);

/** The name ksqlDB stores for an identifier: unquoted upper-cased, quoted kept as written. */
export function identifierName(raw: string): string {
  const q = raw[0];
  if (q === '`' || q === '"') return raw.slice(1, -1).replaceAll(`${q}${q}`, q);
  return raw.toUpperCase();
}

/** Index of `word` (a regex anchored at the position) at depth 0 outside quotes, after `from`; -1 when absent. */
function keywordAt(text: string, word: RegExp, from = 0): number {
  let found = -1;
  scan(text, (i, depth) => {
    if (found === -1 && i >= from && depth === 0 && /\s/.test(text[i - 1] ?? ' ') && word.test(text.slice(i)))
      found = i;
  });
  return found;
}

function columnName(item: string): string {
  const ref = COLUMN_REF_RE.exec(item);
  if (ref) return identifierName(ref[2]!);
  const alias = ALIAS_RE.exec(item);
  if (!alias) throw new Error(`cannot name the select item "${item}": give it an alias`);
  return identifierName(alias[1]!);
}

const ELEMENT_RE = new RegExp(String.raw`^${IDENT}\s+(.+?)(\s+PRIMARY\s+KEY|\s+KEY)?$`, 'i');

/** The element list `( name type [KEY], ... )` right after the object's name, if the statement has one. */
function declaredColumns(afterName: string): KsqlColumn[] {
  if (!afterName.startsWith('(')) return [];
  let end = -1;
  scan(afterName, (i, depth) => {
    if (end === -1 && depth === 0 && afterName[i] === ')') end = i;
  });
  if (end === -1) throw new Error(`unbalanced element list: ${afterName.slice(0, 60)}`);
  return splitTopLevel(afterName.slice(1, end)).map((element) => {
    const m = ELEMENT_RE.exec(element);
    if (!m || /[<>]/.test(m[2]!)) throw new Error(`the deployment model cannot read the column "${element}"`);
    return { name: identifierName(m[1]!), type: m[2]!.toUpperCase().replace(/\s+/g, ' '), key: m[3] !== undefined };
  });
}

/** `NAME = 'value'` pairs of the object's own WITH clause (before AS SELECT). */
function withProperties(head: string): Record<string, string> {
  const at = keywordAt(head, /^WITH\s*\(/i);
  if (at === -1) return {};
  const open = head.indexOf('(', at);
  let end = -1;
  scan(head.slice(open), (i, depth) => {
    if (end === -1 && depth === 0 && head[open + i] === ')') end = open + i;
  });
  const properties: Record<string, string> = {};
  for (const pair of splitTopLevel(head.slice(open + 1, end))) {
    const m = /^(\w+)\s*=\s*(?:'((?:[^']|'')*)'|(\S+))$/.exec(pair);
    if (!m) throw new Error(`the deployment model cannot read the property "${pair}"`);
    properties[m[1]!.toUpperCase()] = m[2] !== undefined ? m[2].replaceAll("''", "'") : m[3]!;
  }
  return properties;
}

function describeStatement(file: string, statement: string, known: ReadonlyMap<string, KsqlObject>): KsqlObject {
  const create = CREATE_RE.exec(statement);
  if (!create)
    throw new Error(`${file}: the deployment model knows only CREATE STREAM/TABLE: ${statement.slice(0, 60)}`);
  const as = /\bAS\s+SELECT\b/i.exec(statement);
  // The object's own WITH clause is before AS SELECT; after it, the query.
  const head = as ? statement.slice(0, as.index) : statement;
  const query = as ? statement.slice(as.index) : '';
  const name = identifierName(create[2]!);
  const properties = withProperties(head);
  const kind = create[1]!.toUpperCase() as 'STREAM' | 'TABLE';
  const declared = as ? [] : declaredColumns(head.slice(create[0].length).trim());
  const sources = [...query.matchAll(SOURCE_RE)].map((m) => identifierName(m[1]!));
  const object: KsqlObject = {
    file,
    kind,
    name,
    topic: properties['KAFKA_TOPIC'] ?? name,
    properties,
    asSelect: as !== null,
    sources,
    query,
    declared,
    columns() {
      if (!as) return declared.map((c) => c.name);
      const start = /^AS\s+SELECT\s+/i.exec(query)?.[0].length ?? 0;
      const end = keywordAt(query, /^FROM\b/i, start);
      return splitTopLevel(query.slice(start, end === -1 ? undefined : end)).map((item) =>
        item === '*' || item.endsWith('.*') ? '*' : columnName(item),
      );
    },
    keyColumns() {
      if (!as) return declared.filter((c) => c.key).map((c) => c.name);
      const at = keywordAt(query, /^GROUP\s+BY\b/i);
      if (at !== -1) {
        const rest = query.slice(at).replace(/^GROUP\s+BY\s+/i, '');
        const stop = keywordAt(rest, /^(EMIT|HAVING|WINDOW|PARTITION|LIMIT)\b/i);
        return splitTopLevel(stop === -1 ? rest : rest.slice(0, stop)).map(columnName);
      }
      if (kind === 'TABLE') return [];
      if (sources.length !== 1 || keywordAt(query, /^PARTITION\s+BY\b/i) !== -1) {
        throw new Error(`${file}: the deployment model does not work out the key of ${name} (a JOIN or PARTITION BY)`);
      }
      const source = known.get(sources[0]!);
      if (!source) throw new Error(`${file}: ${name} reads ${sources[0]}, which no earlier file creates`);
      const keys = new Set(source.keyColumns());
      return object.columns().filter((c) => keys.has(c));
    },
  };
  return object;
}

/**
 * The stream that `copy` is a pure format copy of, or undefined: a CREATE STREAM ... AS SELECT that selects every
 * column of one declared stream, in order, as plain references, and does nothing else (no WHERE, JOIN, GROUP BY,
 * PARTITION BY, WINDOW, HAVING or LIMIT). Such a query only re-serializes the records (for example JSON to Avro):
 * key, timestamp and column values stay as they are.
 */
export function formatCopySource(copy: KsqlObject, objects: readonly KsqlObject[]): KsqlObject | undefined {
  if (copy.kind !== 'STREAM' || !copy.asSelect || copy.sources.length !== 1) return undefined;
  const clauses = /^(WHERE|JOIN|LEFT|RIGHT|FULL|INNER|GROUP\s+BY|PARTITION\s+BY|WINDOW|HAVING|LIMIT)\b/i;
  if (keywordAt(copy.query, clauses) !== -1) return undefined;
  const source = objects.find((o) => o.name === copy.sources[0]);
  if (source?.kind !== 'STREAM' || source.asSelect) return undefined;
  const start = /^AS\s+SELECT\s+/i.exec(copy.query)![0].length;
  const items = splitTopLevel(copy.query.slice(start, keywordAt(copy.query, /^FROM\b/i, start)));
  if (!items.every((item) => COLUMN_REF_RE.test(item))) return undefined;
  const same = copy.columns().join(',') === source.columns().join(',');
  return same ? source : undefined;
}

/** Every object that statement scripts create, scripts in the order given. */
export function parseKsqlScripts(scripts: readonly { file: string; text: string }[]): KsqlObject[] {
  const known = new Map<string, KsqlObject>();
  return scripts.flatMap(({ file, text }) =>
    statementsOf(text).map((statement) => {
      const object = describeStatement(file, statement, known);
      known.set(object.name, object);
      return object;
    }),
  );
}

/** Every object the `.sql` files directly in `dir` create, files in name order. */
export function readKsqlObjects(dir: string): KsqlObject[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
  return parseKsqlScripts(files.map((file) => ({ file, text: readFileSync(join(dir, file), 'utf8') })));
}

/**
 * What the ksql/ statements create and read, worked out statically for the deployment tests: the object each
 * CREATE makes, its Kafka topic, the streams and tables it reads, and the output columns of a `... AS SELECT`.
 * At run time ksqlDB parses the files (through ksql-migrations); this model only lets CI compare them with the
 * topics the init creates, the connector configs and the migrated tables. It refuses what it does not understand
 * (a statement other than CREATE STREAM/TABLE, a select item without a name) instead of guessing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KsqlObject {
  file: string;
  kind: 'STREAM' | 'TABLE';
  /** As ksqlDB stores it: unquoted names upper-cased. */
  name: string;
  /** `KAFKA_TOPIC` when given, else ksqlDB's default, the object name. */
  topic: string;
  /** A persistent query (`CREATE ... AS SELECT`) that writes `topic`. */
  asSelect: boolean;
  /** Streams and tables named after FROM or JOIN. */
  sources: string[];
  /** Output columns of the SELECT list, in order; throws when an item has no name. */
  columns(): string[];
  /** GROUP BY columns: for a table they are the Kafka key, not part of the record value. */
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

function describeStatement(file: string, statement: string): KsqlObject {
  const create = CREATE_RE.exec(statement);
  if (!create)
    throw new Error(`${file}: the deployment model knows only CREATE STREAM/TABLE: ${statement.slice(0, 60)}`);
  const as = /\bAS\s+SELECT\b/i.exec(statement);
  // The object's own WITH clause is before AS SELECT; after it, the query.
  const head = as ? statement.slice(0, as.index) : statement;
  const query = as ? statement.slice(as.index) : '';
  const name = identifierName(create[2]!);
  const topic = /\bKAFKA_TOPIC\s*=\s*'((?:[^']|'')+)'/i.exec(head)?.[1]?.replaceAll("''", "'");
  return {
    file,
    kind: create[1]!.toUpperCase() as 'STREAM' | 'TABLE',
    name,
    topic: topic ?? name,
    asSelect: as !== null,
    sources: [...query.matchAll(SOURCE_RE)].map((m) => identifierName(m[1]!)),
    columns() {
      const start = /^AS\s+SELECT\s+/i.exec(query)?.[0].length ?? 0;
      const end = keywordAt(query, /^FROM\b/i, start);
      return splitTopLevel(query.slice(start, end === -1 ? undefined : end)).map((item) =>
        item === '*' || item.endsWith('.*') ? '*' : columnName(item),
      );
    },
    keyColumns() {
      const at = keywordAt(query, /^GROUP\s+BY\b/i);
      if (at === -1) return [];
      const rest = query.slice(at).replace(/^GROUP\s+BY\s+/i, '');
      const stop = keywordAt(rest, /^(EMIT|HAVING|WINDOW|PARTITION|LIMIT)\b/i);
      return splitTopLevel(stop === -1 ? rest : rest.slice(0, stop)).map(columnName);
    },
  };
}

/** Every object the `.sql` files directly in `dir` create, files in name order. */
export function readKsqlObjects(dir: string): KsqlObject[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => e.name)
    .sort();
  return files.flatMap((file) =>
    statementsOf(readFileSync(join(dir, file), 'utf8')).map((s) => describeStatement(file, s)),
  );
}

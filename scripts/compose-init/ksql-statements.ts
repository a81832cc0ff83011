/**
 * Pure logic of the ksqlDB part of the compose init step: split the `ksql/` files into statements, find out
 * which stream or table each one creates, and plan which ones to submit given what ksqlDB already holds.
 *
 * Nothing here does I/O, so the same functions drive the init step, its unit tests and the static
 * deployment test that checks the init's statement list against the files in `ksql/`.
 */

/** One `.sql` file of `ksql/`, by its file name (the apply order) and text. */
export interface StatementFile {
  name: string;
  text: string;
}

export type ObjectKind = 'STREAM' | 'TABLE';

/** What one statement does, as far as the init needs to know. */
export type StatementTarget =
  | { kind: 'create'; objectKind: ObjectKind; name: string; ifNotExists: boolean; orReplace: boolean }
  | { kind: 'create-type'; name: string }
  | { kind: 'set'; property: string; value: string }
  | { kind: 'unset'; property: string };

export interface Statement {
  /** File the statement comes from. */
  file: string;
  /** The statement as written, comments included, ending with `;`. */
  text: string;
  /** The statement without comments and with whitespace collapsed, used for classification. */
  normalized: string;
  target: StatementTarget;
}

/** Existing ksqlDB objects, upper-case names as ksqlDB reports them in `SHOW STREAMS` / `SHOW TABLES`. */
export interface ExistingObjects {
  streams: ReadonlySet<string>;
  tables: ReadonlySet<string>;
  types?: ReadonlySet<string>;
}

export interface PlannedStatement {
  statement: Statement;
  action: 'apply' | 'skip';
  reason: string;
  /** Session properties in force for this statement (from earlier `SET` lines), sent as `streamsProperties`. */
  properties: Record<string, string>;
}

export class KsqlPlanError extends Error {
  override name = 'KsqlPlanError';
}

/**
 * Splits ksqlDB script text at the semicolons that end statements. Semicolons inside string literals
 * (`'...'` with `''` escapes), quoted identifiers (`"..."`, `` `...` ``) and comments (`-- ...`, `/* ... *\/`)
 * do not end a statement. Chunks that hold only comments or whitespace are dropped; text after the last
 * semicolon must be empty or comments, otherwise the file is rejected (an unterminated statement is a bug).
 */
export function splitStatements(source: string): { text: string; normalized: string }[] {
  const result: { text: string; normalized: string }[] = [];
  let start = 0;
  let code = '';
  let i = 0;
  const n = source.length;
  const push = (end: number) => {
    const text = source.slice(start, end).trim();
    const normalized = code.replace(/\s+/g, ' ').trim();
    if (normalized !== '' && normalized !== ';') result.push({ text, normalized });
    start = end;
    code = '';
  };
  while (i < n) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '-' && next === '-') {
      const eol = source.indexOf('\n', i);
      i = eol === -1 ? n : eol;
      code += ' ';
    } else if (c === '/' && next === '*') {
      const close = source.indexOf('*/', i + 2);
      if (close === -1) throw new KsqlPlanError('unterminated /* comment');
      i = close + 2;
      code += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(source, i, c);
      code += source.slice(i, end + 1);
      i = end + 1;
    } else if (c === ';') {
      code += ';';
      i += 1;
      push(i);
    } else {
      code += c;
      i += 1;
    }
  }
  const rest = code.replace(/\s+/g, ' ').trim();
  if (rest !== '') throw new KsqlPlanError(`statement without a terminating ';': ${rest.slice(0, 80)}`);
  return result;
}

/** Index of the quote that closes the literal opened at `open`; a doubled quote is an escaped one. */
function closingQuote(source: string, open: number, quote: string): number {
  let j = open + 1;
  while (j < source.length) {
    if (source[j] === quote) {
      if (source[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j;
    }
    j += 1;
  }
  throw new KsqlPlanError(`unterminated ${quote} literal`);
}

const IDENT = String.raw`(\`(?:[^\`]|\`\`)+\`|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_@]*)`;
const CREATE_RE = new RegExp(
  String.raw`^CREATE\s+(OR\s+REPLACE\s+)?(?:SOURCE\s+)?(STREAM|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?${IDENT}`,
  'i',
);
const CREATE_TYPE_RE = new RegExp(String.raw`^CREATE\s+TYPE\s+(?:IF\s+NOT\s+EXISTS\s+)?${IDENT}`, 'i');
const SET_RE = /^SET\s+'((?:[^']|'')+)'\s*=\s*'((?:[^']|'')*)'\s*;$/i;
const UNSET_RE = /^UNSET\s+'((?:[^']|'')+)'\s*;$/i;

/**
 * The name ksqlDB stores for an identifier: unquoted names are upper-cased, quoted ones kept as written
 * (with doubled quotes undone).
 */
export function identifierName(raw: string): string {
  const q = raw[0];
  if (q === '`' || q === '"') return raw.slice(1, -1).replaceAll(`${q}${q}`, q);
  return raw.toUpperCase();
}

/**
 * Classifies one normalized statement. Only statements the init can apply idempotently are accepted;
 * anything else (INSERT INTO, DROP, TERMINATE, ...) would run again on every start, so it is refused with a
 * message that names it.
 */
export function classifyStatement(normalized: string): StatementTarget {
  const create = CREATE_RE.exec(normalized);
  if (create) {
    return {
      kind: 'create',
      orReplace: create[1] !== undefined,
      objectKind: create[2]!.toUpperCase() as ObjectKind,
      ifNotExists: create[3] !== undefined,
      name: identifierName(create[4]!),
    };
  }
  const type = CREATE_TYPE_RE.exec(normalized);
  if (type) return { kind: 'create-type', name: identifierName(type[1]!) };
  const set = SET_RE.exec(normalized);
  if (set) return { kind: 'set', property: unquote(set[1]!), value: unquote(set[2]!) };
  const unset = UNSET_RE.exec(normalized);
  if (unset) return { kind: 'unset', property: unquote(unset[1]!) };
  throw new KsqlPlanError(
    `not an idempotent statement the init step can apply (CREATE STREAM/TABLE/TYPE, SET, UNSET): ${normalized.slice(0, 80)}`,
  );
}

function unquote(s: string): string {
  return s.replaceAll("''", "'");
}

/** The `.sql` files in apply order: by file name, byte-wise, so `10_x.sql` sorts after `09_y.sql`. */
export function orderFiles(files: StatementFile[]): StatementFile[] {
  return [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Every statement of every file, in apply order. Throws on an empty file or a statement the init refuses. */
export function parseStatementFiles(files: StatementFile[]): Statement[] {
  const statements: Statement[] = [];
  for (const file of orderFiles(files)) {
    const chunks = splitStatements(file.text);
    if (chunks.length === 0) throw new KsqlPlanError(`${file.name}: no statement`);
    for (const chunk of chunks) {
      try {
        statements.push({ file: file.name, ...chunk, target: classifyStatement(chunk.normalized) });
      } catch (err) {
        throw new KsqlPlanError(`${file.name}: ${(err as Error).message}`);
      }
    }
  }
  return statements;
}

/**
 * Decides, statement by statement, what to submit. A CREATE whose object already exists is skipped (the
 * init runs on every `docker compose up`, and ksqlDB refuses a second CREATE without IF NOT EXISTS); an
 * object of the same name but the other kind is an error, since skipping it would hide a broken deployment.
 * SET/UNSET are not sent: like the ksqlDB CLI, they change the properties sent with later statements.
 */
export function planStatements(
  statements: Statement[],
  existing: ExistingObjects,
  baseProperties: Record<string, string> = {},
): PlannedStatement[] {
  const plan: PlannedStatement[] = [];
  let properties = { ...baseProperties };
  const created = { STREAM: new Set<string>(), TABLE: new Set<string>() };
  for (const statement of statements) {
    const t = statement.target;
    if (t.kind === 'set') {
      properties = { ...properties, [t.property]: t.value };
      plan.push({ statement, action: 'skip', reason: `sets ${t.property} for later statements`, properties });
      continue;
    }
    if (t.kind === 'unset') {
      const { [t.property]: _removed, ...rest } = properties;
      properties = rest;
      plan.push({ statement, action: 'skip', reason: `unsets ${t.property} for later statements`, properties });
      continue;
    }
    if (t.kind === 'create-type') {
      const exists = existing.types?.has(t.name) ?? false;
      plan.push({
        statement,
        action: exists ? 'skip' : 'apply',
        reason: exists ? `type ${t.name} exists` : `creates type ${t.name}`,
        properties,
      });
      continue;
    }
    const other: ObjectKind = t.objectKind === 'STREAM' ? 'TABLE' : 'STREAM';
    const otherSet = other === 'STREAM' ? existing.streams : existing.tables;
    if (otherSet.has(t.name) || created[other].has(t.name)) {
      throw new KsqlPlanError(
        `${statement.file}: ${t.name} should be a ${t.objectKind} but ksqlDB has a ${other} of that name`,
      );
    }
    const sameSet = t.objectKind === 'STREAM' ? existing.streams : existing.tables;
    if (created[t.objectKind].has(t.name)) {
      throw new KsqlPlanError(`${statement.file}: ${t.objectKind} ${t.name} is created twice in ksql/`);
    }
    created[t.objectKind].add(t.name);
    const exists = sameSet.has(t.name);
    plan.push({
      statement,
      action: exists ? 'skip' : 'apply',
      reason: exists ? `${t.objectKind} ${t.name} exists` : `creates ${t.objectKind} ${t.name}`,
      properties,
    });
  }
  return plan;
}

/** The objects the statements create, in order (what the init will make exist in ksqlDB). */
export function createdObjects(statements: Statement[]): { kind: ObjectKind; name: string; file: string }[] {
  return statements.flatMap((s) =>
    s.target.kind === 'create' ? [{ kind: s.target.objectKind, name: s.target.name, file: s.file }] : [],
  );
}

/** Whether a `/ksql` error means "the object is already there", i.e. another init won the race. */
export function isAlreadyExistsError(message: string): boolean {
  return /already exists/i.test(message);
}

/** Where a CREATE statement reads from and writes to, for the deployment's consistency checks. */
export interface CreateInfo {
  kind: ObjectKind;
  name: string;
  file: string;
  /** The Kafka topic behind the object: `KAFKA_TOPIC` when given, else ksqlDB's default, the object name. */
  topic: string;
  /** True for `CREATE ... AS SELECT` (a persistent query that writes the topic). */
  asSelect: boolean;
  /** Streams and tables named after FROM or JOIN, as ksqlDB stores their names. */
  sources: string[];
  /** Output column names of a `... AS SELECT`, in order, as ksqlDB names them (empty for source streams). */
  columns: string[];
  /** `GROUP BY` columns: for a table they form the Kafka key, so they are not in the record value. */
  keyColumns: string[];
}

const KAFKA_TOPIC_RE = /\bKAFKA_TOPIC\s*=\s*'((?:[^']|'')+)'/i;
const SOURCE_RE = new RegExp(String.raw`\b(?:FROM|JOIN)\s+${IDENT}`, 'gi');

export function describeCreates(statements: Statement[]): CreateInfo[] {
  const infos: CreateInfo[] = [];
  for (const s of statements) {
    if (s.target.kind !== 'create') continue;
    // Only the part before AS SELECT holds the WITH clause of the object itself.
    const asMatch = /\bAS\s+SELECT\b/i.exec(s.normalized);
    const head = asMatch ? s.normalized.slice(0, asMatch.index) : s.normalized;
    const body = asMatch ? s.normalized.slice(asMatch.index) : '';
    const topic = KAFKA_TOPIC_RE.exec(head)?.[1];
    infos.push({
      kind: s.target.objectKind,
      name: s.target.name,
      file: s.file,
      topic: topic !== undefined ? unquote(topic) : s.target.name,
      asSelect: asMatch !== null,
      sources: [...body.matchAll(SOURCE_RE)].map((m) => identifierName(m[1]!)),
      columns: asMatch ? projectionNames(body) : [],
      keyColumns: asMatch ? groupByNames(body) : [],
    });
  }
  return infos;
}

/** Splits at commas that are outside parentheses, string literals and quoted identifiers. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') i = closingQuote(text, i, c);
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

/** Index of the keyword `word` at paren depth 0 and outside quotes, at or after `from`; -1 if absent. */
function topLevelKeyword(text: string, word: RegExp, from = 0): number {
  let depth = 0;
  for (let i = from; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') i = closingQuote(text, i, c);
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (depth === 0 && /\s/.test(text[i - 1] ?? ' ') && word.test(text.slice(i))) return i;
  }
  return -1;
}

const ALIAS_RE = new RegExp(String.raw`(?:\bAS\s+|\s)${IDENT}$`, 'i');
const COLUMN_REF_RE = new RegExp(String.raw`^(?:${IDENT}\.)?${IDENT}$`);

/** Output names of the SELECT list: the alias when given, else the referenced column's own name. */
function projectionNames(body: string): string[] {
  const start = /^AS\s+SELECT\s+/i.exec(body)?.[0].length ?? 0;
  const end = topLevelKeyword(body, /^FROM\b/i, start);
  const list = body.slice(start, end === -1 ? undefined : end);
  return splitTopLevel(list).map((item) => {
    // `*` keeps the source's columns, which are not known here.
    if (item === '*' || item.endsWith('.*')) return '*';
    const ref = COLUMN_REF_RE.exec(item);
    if (ref) return identifierName(ref[2]!);
    const alias = ALIAS_RE.exec(item);
    if (!alias) throw new KsqlPlanError(`cannot name the select item "${item}": give it an alias`);
    return identifierName(alias[1]!);
  });
}

function groupByNames(body: string): string[] {
  const at = topLevelKeyword(body, /^GROUP\s+BY\b/i);
  if (at === -1) return [];
  const rest = body.slice(at).replace(/^GROUP\s+BY\s+/i, '');
  const stop = topLevelKeyword(rest, /^(EMIT|HAVING|WINDOW|PARTITION|LIMIT)\b|^;/i);
  const list = (stop === -1 ? rest : rest.slice(0, stop)).replace(/;\s*$/, '');
  return splitTopLevel(list).map((item) => {
    const ref = COLUMN_REF_RE.exec(item);
    return ref ? identifierName(ref[2]!) : item;
  });
}

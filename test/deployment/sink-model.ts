/**
 * What a JDBC sink config will write, worked out statically: the target table and the columns of each record
 * after the connector's transforms, and what the migrations' tables accept. The deployment test compares the two
 * so a renamed ksqlDB column, a typo in a rename or a new NOT NULL column fails in CI rather than at run time.
 */
import type { ConnectorConfig } from '../../scripts/register-connectors.js';
import { splitTopLevel } from './ksql-model.js';

export interface TableColumn {
  name: string;
  notNull: boolean;
  /** GENERATED ... or DEFAULT: the writer need not supply it. */
  filledByDatabase: boolean;
}

export interface TableModel {
  name: string;
  columns: Map<string, TableColumn>;
  primaryKey: string[];
}

const TOPIC_PLACEHOLDER = `$${'{topic}'}`; // Connect's placeholder, not a template literal

/** The tables of the migrations' CREATE TABLE statements, by name as PostgreSQL stores it. */
export function parseTables(sql: string): Map<string, TableModel> {
  const code = sql.replace(/--[^\n]*/g, ''); // comments hold apostrophes and backticks
  const tables = new Map<string, TableModel>();
  const head = /CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?("?)(\w+)\1\s*\(/gi;
  for (let m = head.exec(code); m !== null; m = head.exec(code)) {
    let depth = 1;
    let i = head.lastIndex;
    while (depth > 0 && i < code.length) {
      if (code[i] === '(') depth += 1;
      if (code[i] === ')') depth -= 1;
      i += 1;
    }
    const table: TableModel = { name: m[1] ? m[2]! : m[2]!.toLowerCase(), columns: new Map(), primaryKey: [] };
    for (const part of splitTopLevel(code.slice(head.lastIndex, i - 1).replace(/\s+/g, ' '))) {
      const pk = /^(?:CONSTRAINT \w+ )?PRIMARY KEY \(([^)]*)\)/i.exec(part);
      if (pk) table.primaryKey = pk[1]!.split(',').map((c) => c.trim().toLowerCase());
      if (/^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE)\b/i.test(part)) continue;
      const name = part.split(' ')[0]!.replaceAll('"', '').toLowerCase();
      const isPk = /\bPRIMARY KEY\b/i.test(part);
      if (isPk) table.primaryKey = [name];
      table.columns.set(name, {
        name,
        notNull: isPk || /\bNOT NULL\b/i.test(part),
        filledByDatabase: /\b(GENERATED|DEFAULT)\b/i.test(part),
      });
    }
    tables.set(table.name, table);
  }
  return tables;
}

const isDebezium = (c: ConnectorConfig) => c.config['connector.class']!.startsWith('io.debezium.');

/** Whether the sink folds identifiers to PostgreSQL's lower case (unquoted) or keeps them (quoted). */
export function foldsCase(c: ConnectorConfig): boolean {
  return isDebezium(c)
    ? c.config['quote.identifiers'] !== 'true'
    : (c.config['quote.sql.identifiers'] ?? 'always') === 'never';
}

/** The table a sink writes for `topic`, as PostgreSQL resolves the name. */
export function targetTable(c: ConnectorConfig, topic: string): string {
  const format = c.config['table.name.format'] ?? c.config['collection.name.format'] ?? TOPIC_PLACEHOLDER;
  const name = format.replaceAll(TOPIC_PLACEHOLDER, topic).split('.').pop()!.replaceAll('"', '');
  return foldsCase(c) ? name.toLowerCase() : name;
}

export interface WrittenRecord {
  /** Columns taken from the record value, after the transforms, as they reach the table. */
  valueColumns: string[];
  /** Primary-key columns the sink uses for upserts. */
  keyColumns: string[];
  /** Rename sources that name no value column (typos). */
  unknownRenames: string[];
}

/**
 * Applies the connector's transforms to the value columns of a ksqlDB output (key columns excluded) and adds the
 * key columns its primary-key mode writes. Only ReplaceField$Value is modelled; any other transform is reported
 * as an error so this model is extended rather than silently wrong.
 */
export function writtenRecord(c: ConnectorConfig, valueColumns: string[]): WrittenRecord {
  let columns = [...valueColumns];
  const unknownRenames: string[] = [];
  const aliases = (c.config['transforms'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const alias of aliases) {
    const type = c.config[`transforms.${alias}.type`];
    if (type !== 'org.apache.kafka.connect.transforms.ReplaceField$Value') {
      throw new Error(`${c.name}: transform ${alias} (${type}) is not modelled by the deployment test`);
    }
    const list = (key: string) =>
      (c.config[`transforms.${alias}.${key}`] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const exclude = new Set([...list('exclude'), ...list('blacklist')]);
    const include = new Set([...list('include'), ...list('whitelist')]);
    columns = columns.filter((col) => !exclude.has(col) && (include.size === 0 || include.has(col)));
    const renames = new Map(list('renames').map((r) => r.split(':') as [string, string]));
    for (const from of renames.keys()) if (!columns.includes(from)) unknownRenames.push(from);
    columns = columns.map((col) => renames.get(col) ?? col);
  }
  const fold = (s: string) => (foldsCase(c) ? s.toLowerCase() : s);
  const mode = c.config['primary.key.mode'] ?? c.config['pk.mode'] ?? 'none';
  const pkFields = (c.config['primary.key.fields'] ?? c.config['pk.fields'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(fold);
  const keyColumns =
    mode === 'kafka' ? ['__connect_topic', '__connect_partition', '__connect_offset'].map(fold) : pkFields;
  return {
    valueColumns: columns.map(fold),
    keyColumns: mode === 'record_key' || mode === 'kafka' || mode === 'record_value' ? keyColumns : [],
    unknownRenames,
  };
}

/**
 * Rewrites README's configuration table from the schema in `src/config.ts` (between the `config-table` markers),
 * so the documentation cannot drift from the code. `npm run docs:config`; `src/config.test.ts` fails when stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeConfig } from '../src/config.js';

const START = '<!-- config-table:start -->';
const END = '<!-- config-table:end -->';

export function configTable(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const rows = describeConfig().map((r) => `| \`${r.name}\` | \`${r.default}\` | ${cell(r.description)} |`);
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

export function withConfigTable(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from === -1 || to === -1) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return `${readme.slice(0, from + START.length)}\n${configTable()}\n${readme.slice(to)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../README.md', import.meta.url);
  writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')));
  console.log('README.md configuration table regenerated');
}

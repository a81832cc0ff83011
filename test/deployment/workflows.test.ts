/**
 * The GitHub Actions workflows, statically: they parse, pin every action to a commit, and run files that exist in
 * the order the deployment needs. They run only on GitHub's hosted runners, never on this machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

const root = join(import.meta.dirname, '..', '..');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; 'timeout-minutes': number; steps: Step[] }>;
}

function load(name: string): { text: string; workflow: Workflow } {
  const text = readFileSync(join(root, '.github/workflows', name), 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  expect(
    [...doc.errors, ...doc.warnings].map((e) => e.message),
    name,
  ).toEqual([]);
  return { text, workflow: doc.toJS() as Workflow };
}

const steps = (w: Workflow) => Object.values(w.jobs).flatMap((job) => job.steps);
const indexOf = (all: Step[], match: (s: Step) => boolean) => {
  const i = all.findIndex(match);
  expect(i, 'step present').toBeGreaterThanOrEqual(0);
  return i;
};

describe.each(['ci.yml', 'compose-smoke.yml'])('.github/workflows/%s', (name) => {
  const { text, workflow } = load(name);

  it('runs on push to main and on pull requests, read-only, on a hosted runner with a time limit', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      expect(job['timeout-minutes']).toBeGreaterThan(0);
    }
  });

  it('pins every action to a full commit SHA, with the version it stands for in a comment', () => {
    const uses = steps(workflow).flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) {
      expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(text).toMatch(new RegExp(`${use.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} # v\\d+\\.\\d+\\.\\d+`));
    }
    expect(uses.some((u) => u.startsWith('actions/checkout@'))).toBe(true);
  });

  it('runs only scripts that exist', () => {
    for (const step of steps(workflow)) {
      for (const [, file] of (step.run ?? '').matchAll(/\bbash\s+(\S+)/g)) {
        expect(existsSync(join(root, file!)), `${step.name}: ${file}`).toBe(true);
      }
    }
  });
});

describe('.github/workflows/ci.yml', () => {
  const { workflow } = load('ci.yml');

  it('runs the CI entry on the Node.js line the project requires', () => {
    const all = steps(workflow);
    expect(all.at(-1)?.run).toBe('bash .ci/run');
    const node = all.find((s) => s.uses?.startsWith('actions/setup-node@'));
    // A string: unquoted, YAML would read 20.20 as the number 20.2.
    expect(node?.with?.['node-version']).toBe('20.20');
    const engines = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    const [major, minor] = /^>=(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number);
    const [haveMajor, haveMinor] = String(node?.with?.['node-version']).split('.').map(Number);
    expect(haveMajor === major ? haveMinor! >= minor! : haveMajor! > major!).toBe(true);
  });
});

describe('.github/workflows/compose-smoke.yml', () => {
  const { workflow } = load('compose-smoke.yml');
  const all = steps(workflow);

  it('starts the stack with --wait and a time bound, then runs the smoke test', () => {
    const up = indexOf(all, (s) => /docker compose up -d --build --wait --wait-timeout \d+/.test(s.run ?? ''));
    expect(all[up]!.run).toMatch(/^timeout \d+ /);
    const smoke = indexOf(all, (s) => s.run === 'bash scripts/compose-smoke.sh');
    expect(smoke).toBeGreaterThan(up);
  });

  it('prints the logs on failure and always removes both projects with their volumes', () => {
    const logs = indexOf(all, (s) => /docker compose logs/.test(s.run ?? ''));
    expect(all[logs]!.if).toBe('failure()');
    const down = all.at(-1)!;
    expect(down.if).toBe('always()');
    expect(down.run).toMatch(/^docker compose down -v/m);
    // The private project of the smoke test, by the name the script gives it.
    const script = readFileSync(join(root, 'scripts/compose-smoke.sh'), 'utf8');
    const project = /EMBEDDED_PROJECT="\$\{SMOKE_EMBEDDED_PROJECT:-([\w-]+)\}"/.exec(script)?.[1];
    expect(project).toBeDefined();
    expect(down.run).toContain(`docker compose -p ${project} --profile embedded down -v`);
  });
});

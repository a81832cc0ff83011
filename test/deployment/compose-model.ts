/**
 * Reading the deployment files the way Docker Compose and the Docker builder would, without either: the compose
 * file (YAML 1.1 merge keys, variable interpolation), `.env.example`, and Dockerfiles (ARG, FROM, COPY,
 * HEALTHCHECK). Only what the static deployment test needs.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type ComposeService = Record<string, Json>;
export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, Json>;
  networks?: Record<string, Json>;
  [key: string]: Json | Record<string, ComposeService> | undefined;
}

/** Parses like Compose: merge keys (`<<: *anchor`) on, duplicate keys an error, every YAML error fatal. */
export function parseCompose(text: string): ComposeFile {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((e) => e.message).join('\n'));
  return doc.toJS({ maxAliasCount: 100 }) as ComposeFile;
}

/**
 * Paths whose value a YAML 1.1 parser reads differently from a YAML 1.2 one (unquoted `no` becomes a boolean,
 * `22:22` a base-60 number, ...). Compose files are read by both kinds of tools, so such values must be quoted.
 */
export function yaml11Ambiguities(text: string): string[] {
  const v12 = parseDocument(text, { merge: true }).toJS({ maxAliasCount: 100 }) as Json;
  const v11 = parseDocument(text, { merge: true, version: '1.1' }).toJS({ maxAliasCount: 100 }) as Json;
  const found: string[] = [];
  const walk = (a: Json, b: Json, path: string) => {
    if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        walk((a as Record<string, Json>)[key]!, (b as Record<string, Json>)[key]!, `${path}.${key}`);
      }
      return;
    }
    // The library's 1.1 float pattern also matches a bare `.` (PyYAML's does not): not a real ambiguity.
    if (a === '.' && typeof b === 'number' && Number.isNaN(b)) return;
    if (!Object.is(a, b)) found.push(`${path}: ${JSON.stringify(a)} (YAML 1.2) vs ${JSON.stringify(b)} (YAML 1.1)`);
  };
  walk(v12, v11, '');
  return found;
}

export interface VariableUse {
  name: string;
  /** `${X:-d}` / `${X-d}` give a default; `${X:?e}` makes it required. */
  hasDefault: boolean;
  required: boolean;
}

const VAR_RE = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Compose's interpolation of one string; `uses` collects every variable referenced. */
export function interpolate(value: string, env: Record<string, string>, uses: VariableUse[] = []): string {
  return value.replace(VAR_RE, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare)!;
    const set = env[name];
    const hasDefault = op === ':-' || op === '-';
    const required = op === ':?' || op === '?';
    uses.push({ name, hasDefault, required });
    const empty = set === undefined || set === '';
    switch (op) {
      case ':-':
        return empty ? (arg ?? '') : set;
      case '-':
        return set === undefined ? (arg ?? '') : set;
      case ':?':
      case '?':
        if (op === ':?' ? empty : set === undefined) throw new Error(`required variable ${name}: ${arg ?? ''}`);
        return set ?? '';
      case ':+':
        return empty ? '' : (arg ?? '');
      case '+':
        return set === undefined ? '' : (arg ?? '');
      default:
        return set ?? '';
    }
  });
}

/** Interpolates every string in a parsed structure (keys are left alone, as Compose does). */
export function interpolateAll<T extends Json>(value: T, env: Record<string, string>, uses: VariableUse[] = []): T {
  if (typeof value === 'string') return interpolate(value, env, uses) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env, uses)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env, uses)])) as T;
  }
  return value;
}

/** `KEY=value` lines; comments and blank lines skipped; surrounding quotes removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    env[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** A service's `environment`, list or map form, as a string record (Compose turns numbers into strings). */
export function serviceEnvironment(service: ComposeService): Record<string, string> {
  const env = service['environment'];
  if (env === undefined || env === null) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [k, ...rest] = String(entry).split('=');
        return [k!, rest.join('=')];
      }),
    );
  }
  if (typeof env !== 'object') throw new Error('environment must be a list or a map');
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

export interface DockerfileModel {
  /** Images of the FROM lines with ARG defaults substituted; stage names excluded. */
  baseImages: string[];
  stages: string[];
  /** Sources of COPY/ADD lines that read the build context (not `--from=`). */
  contextSources: string[];
  workdir: string | undefined;
  /** Destination (absolute) of every context COPY, by source. */
  copies: { source: string; destination: string }[];
  hasHealthcheck: boolean;
  user: string | undefined;
  cmd: string | undefined;
}

/** Reads the instructions of a Dockerfile the builder cares about here; continuation lines are joined. */
export function parseDockerfile(path: string): DockerfileModel {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const model: DockerfileModel = {
    baseImages: [],
    stages: [],
    contextSources: [],
    workdir: undefined,
    copies: [],
    hasHealthcheck: false,
    user: undefined,
    cmd: undefined,
  };
  const subst = (s: string) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => args[n] ?? '');
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    switch (instruction.toUpperCase()) {
      case 'ARG': {
        const [name, value] = body.split('=');
        if (name && value !== undefined && args[name] === undefined) args[name] = value.replace(/^"(.*)"$/, '$1');
        break;
      }
      case 'FROM': {
        const [image = '', as, alias] = body.split(/\s+/).filter((p) => !p.startsWith('--'));
        const resolved = subst(image);
        if (!model.stages.includes(resolved)) model.baseImages.push(resolved);
        if (as?.toUpperCase() === 'AS' && alias) model.stages.push(alias);
        break;
      }
      case 'WORKDIR':
        model.workdir = body;
        break;
      case 'COPY':
      case 'ADD': {
        const parts = body.split(/\s+/);
        if (parts.some((p) => p.startsWith('--from='))) break;
        const paths = parts.filter((p) => !p.startsWith('--'));
        const destination = paths.pop() ?? '';
        const absolute = destination.startsWith('/')
          ? destination
          : `${model.workdir ?? '/'}/${destination}`.replace(/\/\.?\/?$/, '').replace(/\/\.\//g, '/');
        for (const source of paths) {
          model.contextSources.push(source);
          model.copies.push({ source, destination: absolute });
        }
        break;
      }
      case 'HEALTHCHECK':
        model.hasHealthcheck = !/^NONE$/i.test(body);
        break;
      case 'USER':
        model.user = body;
        break;
      case 'CMD':
        model.cmd = body;
        break;
      default:
        break;
    }
  }
  return model;
}

/** An image reference is pinned when it names a tag other than `latest` (or a digest). */
export function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.split('/').pop() ?? '';
  const colon = lastSegment.lastIndexOf(':');
  if (colon === -1) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest' && !tag.includes('$');
}

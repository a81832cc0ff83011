/**
 * The committed OpenAPI document is the served one, and a typed client generated from the committed document
 * (openapi-typescript + openapi-fetch) compiles and calls every operation in it against the real stack.
 * New operations (e.g. simulator control) are picked up automatically: the client code is generated from the
 * document's paths.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, latestRecord, startApiStack, windowRecord } from './support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const committedPath = join(root, 'openapi', 'openapi.json');
const outDir = join(root, 'test', 'api', '.generated-client');

type Schema = Record<string, unknown> & { $ref?: string };
interface Parameter {
  name: string;
  in: 'query' | 'header' | 'path';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };

let stack: ApiStack;

beforeAll(async () => {
  stack = await startApiStack();
  await stack.produceLatest('dev-1', latestRecord(1_772_500_000_000));
  await stack.produceWindows([windowRecord('dev-1', 1_772_500_000_000)]);
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** A value that satisfies `schema` (required properties only), preferring examples and defaults. */
function sample(schema: Schema, doc: Document): unknown {
  if (schema.$ref) return sample(doc.components?.schemas?.[schema.$ref.split('/').pop() ?? ''] ?? {}, doc);
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, sample(props[k] ?? {}, doc)]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return false;
    default:
      return 'dev-1';
  }
}

/** TypeScript source that calls every operation of the document with the typed client. */
function clientSource(doc: Document): string {
  const calls: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const params: Record<string, Record<string, unknown>> = {};
      for (const p of op.parameters ?? []) {
        // Required parameters, and optional query parameters that document an example; never resume headers.
        if (!p.required && (p.in !== 'query' || p.schema.example === undefined)) continue;
        params[p.in] ??= {};
        (params[p.in] as Record<string, unknown>)[p.name] = sample(p.schema, doc);
      }
      const json = op.requestBody?.content['application/json'];
      const init = [
        `params: ${JSON.stringify(params)}`,
        ...(json ? [`body: ${JSON.stringify(sample(json.schema, doc))}`] : []),
        "parseAs: 'stream'",
      ].join(', ');
      calls.push(
        `  {\n    const { data, response } = await client.${method.toUpperCase()}(${JSON.stringify(path)}, { ${init} });\n` +
          // Success bodies come back unread (SSE never ends); error bodies were already read by the client.
          `    if (data instanceof ReadableStream) await data.cancel();\n` +
          `    results.push({ operationId: ${JSON.stringify(op.operationId)}, status: response.status });\n  }`,
      );
    }
  }
  return [
    "import createClient from 'openapi-fetch';",
    "import type { paths } from './schema.js';",
    '',
    'export async function callEveryOperation(baseUrl: string) {',
    '  const client = createClient<paths>({ baseUrl });',
    '  const results: { operationId: string; status: number }[] = [];',
    ...calls,
    '  return results;',
    '}',
    '',
  ].join('\n');
}

describe('OpenAPI document', () => {
  it('is committed exactly as served (run `npm run openapi` after changing routes)', async () => {
    const served = (await (await fetch(`${stack.url}/openapi.json`)).json()) as Document;
    const committed = JSON.parse(readFileSync(committedPath, 'utf8')) as Document;
    expect(served).toEqual(committed);
  });

  it('generates a typed client that compiles and calls every operation', async () => {
    const doc = JSON.parse(readFileSync(committedPath, 'utf8')) as Document;
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'schema.ts'), astToString(await openapiTS(doc as never)));
    writeFileSync(join(outDir, 'client.ts'), clientSource(doc));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2023',
      '--types',
      'node',
      join(outDir, 'client.ts'),
    ];
    const compiled = await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: root }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(compiled).toBe('');

    const client = (await import(join(outDir, 'client.ts'))) as {
      callEveryOperation(base: string): Promise<{ operationId: string; status: number }[]>;
    };
    const results = await client.callEveryOperation(stack.url);
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(results.map((r) => r.operationId).sort()).toEqual(operations.map((o) => o.operationId).sort());
    for (const result of results) {
      const op = operations.find((o) => o.operationId === result.operationId);
      expect({ ...result, documented: Object.keys(op?.responses ?? {}).includes(String(result.status)) }).toMatchObject(
        {
          documented: true,
          status: expect.toSatisfy((s: number) => s >= 200 && s < 300),
        },
      );
    }
  });
});

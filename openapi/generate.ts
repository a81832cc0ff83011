/**
 * `npm run openapi`: regenerates `openapi/openapi.json` from the routes (the same document `/openapi.json`
 * serves). `test/api/openapi.test.ts` fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument, formatOpenApiDocument } from '../src/openapi-document.js';

const target = new URL('./openapi.json', import.meta.url);
writeFileSync(target, formatOpenApiDocument(await buildOpenApiDocument()));
process.stdout.write(`wrote ${target.pathname}\n`);

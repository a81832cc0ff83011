/**
 * The OpenAPI 3.1 document exactly as `/openapi.json` serves it, built without connecting to anything (the
 * application is created but not started). `npm run openapi` writes it to `openapi/openapi.json`.
 */

import { createApi } from './api/app.js';
import { createApplication } from './app.js';
import { loadConfig } from './config.js';
import { createSilentLogger } from './observability/logger.js';

export async function buildOpenApiDocument(): Promise<unknown> {
  const application = createApplication(loadConfig({}), createSilentLogger());
  try {
    const response = await createApi(application.services).request('/openapi.json');
    return await response.json();
  } finally {
    await application.services.sql.end({ timeout: 1 });
    await application.services.admin.close();
  }
}

/** The committed file's exact text: two-space JSON and a final newline. */
export function formatOpenApiDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

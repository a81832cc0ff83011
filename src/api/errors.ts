/**
 * The one place where errors become HTTP responses. Every 4xx/5xx body has the same envelope:
 * `{ "error": { "code", "message", "details"?, "request_id"? } }`. Unexpected errors get a generic message
 * (the full error goes to the log with the request id), never a stack trace or an internal message.
 */
import { z } from '@hono/zod-openapi';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type ErrorCode, isAppError, PUBLIC_ERROR_CODES } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(PUBLIC_ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.unknown().optional(),
      request_id: z.string().optional(),
    }),
  })
  .openapi('Error');
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** The envelope of an `AppError`; internal ones (status 500) show neither their message nor their details. */
export function errorResponse(c: Context, err: AppError): Response {
  const requestId = c.get('requestId' as never) as string | undefined;
  const internal = err.status === 500;
  const body: ErrorEnvelope = {
    error: {
      code: internal ? 'INTERNAL_SERVER_ERROR' : err.code,
      message: internal ? 'internal error' : err.message,
      ...(internal || err.details === undefined ? {} : { details: err.details }),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
  return c.json(body, err.status as ContentfulStatusCode);
}

/** `app.onError`: the single translation of thrown errors into responses. */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (isAppError(err)) {
      if (err.status >= 500) logger.warn({ err, path: c.req.path }, 'request_failed');
      return errorResponse(c, err);
    }
    if (err instanceof HTTPException) {
      const code: ErrorCode =
        err.status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : err.status === 401
            ? 'UNAUTHORIZED'
            : err.status === 504
              ? 'TIMEOUT'
              : 'BAD_REQUEST';
      return errorResponse(c, new AppError(code, err.message || 'bad request'));
    }
    logger.error({ err, path: c.req.path, method: c.req.method }, 'request_crashed');
    return errorResponse(c, new AppError('INTERNAL_SERVER_ERROR', 'internal error'));
  };
}

/** How a validation message names where the input was (`query parameter` for `query`, and so on). */
const VALIDATION_TARGETS: Record<string, string> = { json: 'body field', param: 'path parameter' };

/**
 * zod-openapi's `defaultHook`: invalid parameters or bodies become 400 with the offending fields named,
 * e.g. `{ code: 'BAD_REQUEST', message: 'invalid query parameter: limit', details: [{ field: 'limit', ... }] }`.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const target = VALIDATION_TARGETS[result.target ?? ''] ?? `${result.target ?? 'request'} parameter`;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || '(root)',
    message: issue.message,
  }));
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return errorResponse(c, new AppError('BAD_REQUEST', `invalid ${target}: ${fields}`, { details }));
}

/** The shared error responses every route declares in its OpenAPI `responses`. */
export const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorEnvelopeSchema } } },
  500: { description: 'Unexpected error', content: { 'application/json': { schema: ErrorEnvelopeSchema } } },
  503: {
    description: 'A dependency (Kafka, PostgreSQL, ksqlDB) is unavailable',
    content: { 'application/json': { schema: ErrorEnvelopeSchema } },
  },
} as const;

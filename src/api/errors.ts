/**
 * The one place where errors become HTTP responses. Every 4xx/5xx body has the same envelope:
 * `{ "error": { "code", "message", "details"?, "request_id"? } }`. Unexpected errors get a generic message
 * (the full error goes to the log with the request id), never a stack trace or an internal message.
 */
import { z } from '@hono/zod-openapi';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type AppError, isAppError, UnavailableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';

export const ApiErrorCodes = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNPROCESSABLE',
  'TOO_MANY_REQUESTS',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL_SERVER_ERROR',
] as const;
export type ApiErrorCode = (typeof ApiErrorCodes)[number];

const statusOf: Record<ApiErrorCode, ContentfulStatusCode> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL_SERVER_ERROR: 500,
};

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ApiErrorCodes),
      message: z.string(),
      details: z.unknown().optional(),
      request_id: z.string().optional(),
    }),
  })
  .openapi('Error');
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** An error a handler throws to answer with a specific status and code. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
  get status(): ContentfulStatusCode {
    return statusOf[this.code];
  }
}

/** Maps the application's internal codes to API codes; exhaustive over `ErrorCode`. */
export function apiErrorFromAppError(err: AppError): ApiError {
  switch (err.code) {
    case 'TLM_KAFKA_UNAVAILABLE':
    case 'TLM_DATABASE_UNAVAILABLE':
    case 'TLM_KSQLDB_UNAVAILABLE':
    case 'TLM_NOT_READY': {
      const dependency = err instanceof UnavailableError ? err.dependency : undefined;
      return new ApiError('UNAVAILABLE', err.message, dependency ? { dependency } : undefined);
    }
    case 'TLM_SIMULATION_CONFLICT':
      return new ApiError('CONFLICT', err.message, err.details);
    case 'TLM_SIMULATION_LIMIT':
      return new ApiError('UNPROCESSABLE', err.message, err.details);
    case 'TLM_CONFIG_INVALID':
    case 'TLM_DECODE_FAILED':
    case 'TLM_SINK_FAILED':
    case 'TLM_TOPIC_MISMATCH':
      return new ApiError('INTERNAL_SERVER_ERROR', 'internal error');
    default: {
      const exhaustive: never = err.code;
      return exhaustive;
    }
  }
}

export function errorResponse(c: Context, err: ApiError): Response {
  const requestId = c.get('requestId' as never) as string | undefined;
  const body: ErrorEnvelope = {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
  return c.json(body, err.status);
}

/** `app.onError`: the single translation of thrown errors into responses. */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (isAppError(err)) {
      const apiError = apiErrorFromAppError(err);
      if (apiError.status >= 500) logger.warn({ err, path: c.req.path }, 'request_failed');
      return errorResponse(c, apiError);
    }
    if (err instanceof HTTPException) {
      const code: ApiErrorCode =
        err.status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : err.status === 401
            ? 'UNAUTHORIZED'
            : err.status === 504
              ? 'TIMEOUT'
              : 'BAD_REQUEST';
      return errorResponse(c, new ApiError(code, err.message || 'bad request'));
    }
    logger.error({ err, path: c.req.path, method: c.req.method }, 'request_crashed');
    return errorResponse(c, new ApiError('INTERNAL_SERVER_ERROR', 'internal error'));
  };
}

/**
 * zod-openapi's `defaultHook`: invalid parameters or bodies become 400 with the offending fields named,
 * e.g. `{ code: 'BAD_REQUEST', message: 'invalid query parameter: limit', details: [{ field: 'limit', ... }] }`.
 */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError; target?: string },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const target = result.target === 'json' ? 'body field' : `${result.target ?? 'request'} parameter`;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || '(root)',
    message: issue.message,
  }));
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return errorResponse(c, new ApiError('BAD_REQUEST', `invalid ${target}: ${fields}`, details));
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

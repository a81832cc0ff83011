/**
 * The application's one error type and its closed set of codes. Each code carries the HTTP status it answers
 * with, so the HTTP edge needs no second enum and no mapping: a handler, a component or a check throws an
 * `AppError`, and `api/errors.ts` turns it into the one JSON envelope. The other edges (the stream consumers,
 * `main`) read the same codes for dead letters and exit codes.
 *
 * Codes answering 500 are internal (`PUBLIC` is false for them): their message and details go to the log only,
 * and the client gets the generic `INTERNAL_SERVER_ERROR`.
 */

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  /** A dependency (Kafka, PostgreSQL, ksqlDB) or a component of this instance cannot serve now; retryable. */
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL_SERVER_ERROR: 500,
  /** The environment is invalid (start-up only: exit code 2). */
  CONFIG_INVALID: 500,
  /** The source topics' partition counts differ, or disagree with the configuration (not retryable). */
  TOPIC_MISMATCH: 500,
  /** A dependency sent data that does not match its contract (e.g. a ksqlDB row). */
  DECODE_FAILED: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The codes a client can receive; every 500 is reported as `INTERNAL_SERVER_ERROR`. */
export const PUBLIC_ERROR_CODES = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter(
  (code) => ERROR_STATUS[code] !== 500 || code === 'INTERNAL_SERVER_ERROR',
);

export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_STATUS[code] === 503;
    this.details = options.details;
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every invalid environment variable at once, so a user fixes them in one go. */
export class ConfigError extends AppError {
  override name = 'ConfigError';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const list = problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n');
    super('CONFIG_INVALID', `invalid configuration:\n${list}`, { details: { problems } });
    this.problems = problems;
  }
}

export type Dependency = 'kafka' | 'postgresql' | 'ksqldb';

/** A dependency (Kafka, PostgreSQL, ksqlDB) that cannot be reached; always retryable. */
export class UnavailableError extends AppError {
  override name = 'UnavailableError';
  readonly dependency: Dependency;

  constructor(dependency: Dependency, message: string, cause?: unknown) {
    super('UNAVAILABLE', message, { cause, retryable: true, details: { dependency } });
    this.dependency = dependency;
  }
}

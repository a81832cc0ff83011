/**
 * The closed set of error codes of the application. Code inside throws `AppError`s; each edge (HTTP, the
 * stream consumers, `main`) turns them into responses, dead letters or exit codes in exactly one place.
 */

export const ErrorCodes = [
  'TLM_CONFIG_INVALID',
  'TLM_DECODE_FAILED',
  'TLM_KAFKA_UNAVAILABLE',
  'TLM_DATABASE_UNAVAILABLE',
  'TLM_KSQLDB_UNAVAILABLE',
  'TLM_SINK_FAILED',
  'TLM_TOPIC_MISMATCH',
  'TLM_SIMULATION_CONFLICT',
  'TLM_SIMULATION_LIMIT',
  'TLM_NOT_READY',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface AppErrorOptions {
  cause?: unknown;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
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
    super('TLM_CONFIG_INVALID', `invalid configuration:\n${list}`, { details: { problems } });
    this.problems = problems;
  }
}

/** A dependency (Kafka, PostgreSQL, ksqlDB) that cannot be reached; always retryable. */
export class UnavailableError extends AppError {
  override name = 'UnavailableError';
  readonly dependency: 'kafka' | 'postgresql' | 'ksqldb';

  constructor(dependency: 'kafka' | 'postgresql' | 'ksqldb', message: string, cause?: unknown) {
    const code = (
      {
        kafka: 'TLM_KAFKA_UNAVAILABLE',
        postgresql: 'TLM_DATABASE_UNAVAILABLE',
        ksqldb: 'TLM_KSQLDB_UNAVAILABLE',
      } as const
    )[dependency];
    super(code, message, { cause, retryable: true, details: { dependency } });
    this.dependency = dependency;
  }
}

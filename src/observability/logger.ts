/**
 * Structured JSON logs (pino). Events are snake_case past-tense verbs with a field object:
 * `logger.info({ topic, partitions }, 'topic_created')`.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to assert on. */
  destination?: DestinationStream;
}

export function createLogger({ level, destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service: 'telemetry-pipeline' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that writes nothing, for unit tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * How many SSE connections the process can afford: each one holds a file descriptor, and so do Kafka and
 * PostgreSQL connections, files and every other HTTP request. With the cap at the process's whole open-file
 * limit, one client holding SSE connections made `/health` and `/ready` stop answering (issue 13, finding 5).
 */
import { readFileSync } from 'node:fs';

/** The soft open-file limit of this process (Linux `/proc/self/limits`), or undefined where it cannot be read. */
export function openFileLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | undefined {
  try {
    const line = read()
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const value = Number(soft);
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The configured cap, lowered to leave `max(512, limit / 4)` descriptors for everything but SSE. */
export function sseClientCap(configured: number, fileLimit: number | undefined): number {
  if (fileLimit === undefined) return configured;
  const reserve = Math.max(512, Math.floor(fileLimit / 4));
  return Math.max(1, Math.min(configured, fileLimit - reserve));
}

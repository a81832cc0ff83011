/** Processors in child processes (`processor-child.ts`), for the tests that kill, pause and resume them. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ProcessorStats } from '../../src/processor/processor.js';

export type ChildStats = ProcessorStats & { partitions: number[] };

export interface ProcessorChild {
  child: ChildProcess;
  /** The latest line it printed (every 100 ms while it runs). */
  stats: () => ChildStats | undefined;
  exited: Promise<void>;
}

export function startChild(options: object): ProcessorChild {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./processor-child.ts', import.meta.url).pathname, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let last: ChildStats | undefined;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    last = JSON.parse(line) as ChildStats;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, stats: () => last, exited };
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Benchmark servers in child processes (`fork` with tsx), driven over IPC: `start` resolves once the child says
 * `ready` with its port; `ask` sends a message and resolves with the first reply of the expected type.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;

/** Every child started, for a hard stop to kill. */
export const children: ChildProcess[] = [];
export function start(script: string, args: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(here, script), args, {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
      DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://telemetry@127.0.0.1:5433/telemetry',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.on('message', (m: { type: string; port?: number }) => {
      if (m.type === 'ready') resolve({ child, port: m.port as number });
    });
  });
}

export function ask<T>(
  child: ChildProcess,
  type: string,
  reply: string,
  extra: Record<string, unknown> = {},
): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type === reply) {
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    child.send({ type, ...extra });
  });
}

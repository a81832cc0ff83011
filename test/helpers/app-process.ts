/**
 * The application as a user runs it: a real process (`node --import tsx src/main.ts`) in its own process group,
 * with its JSON log lines collected, for tests that restart, kill or signal it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface AppProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the HTTP port once the server listens; rejects if the process exits first. */
  listening: Promise<number>;
  /** Resolves once the pipeline has started (`pipeline_started`). */
  started: Promise<void>;
  stderr(): string;
  /** SIGKILL to the whole process group, as a crash or an OOM kill would do; resolves once it is gone. */
  crash(): Promise<void>;
}

export interface StartOptions {
  /** Runs the app under `ulimit -n` of this many open files. */
  fileLimit?: number;
}

export function startApp(env: Record<string, string>, options: StartOptions = {}): AppProcess {
  const command = [process.execPath, '--import', 'tsx', 'src/main.ts'];
  const [file, args] = options.fileLimit
    ? ['bash', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, ...command]]
    : [command[0] as string, command.slice(1)];
  const child = spawn(file as string, args as string[], {
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', INFRA_ENV_FILE: '/nonexistent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: Record<string, unknown>[] = [];
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry['msg'] === 'http_listening') resolve(entry['port'] as number);
        if (entry['msg'] === 'pipeline_started') markStarted();
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`app exited with ${code}: ${stderr}`)));
  });
  listening.catch(() => undefined); // a test that expects the exit does not await this
  return {
    child,
    lines,
    listening,
    started,
    stderr: () => stderr,
    async crash() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      process.kill(-(child.pid as number), 'SIGKILL');
      await exited;
    },
  };
}

export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

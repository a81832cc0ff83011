/**
 * Local infrastructure without Docker: a single-node Apache Kafka (KRaft) from Maven Central jars
 * (`infra/kafka.ts`) and a PostgreSQL cluster from the system's binaries (`infra/postgres.ts`), both on 127.0.0.1,
 * with data and logs under `.local/`.
 *
 * Used by `npm run infra:*`, by the test suite's global setup and by CI, so all three run the same services
 * the same way. Every command is idempotent. Usage: `tsx scripts/infra.ts up|down|status|wipe|env|classpath`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectionSettings, type InfraSettings, loadInfraSettings, log } from './infra/common.js';
import { kafkaAnswers, kafkaClasspath, kafkaDir, kafkaDown, kafkaUp } from './infra/kafka.js';
import { pgAnswers, pgDir, postgresDown, postgresUp } from './infra/postgres.js';

export {
  connectionSettings,
  InfraError,
  type InfraSettings,
  InfraSettingsSchema,
  loadInfraSettings,
  requireTool,
} from './infra/common.js';
export { kafkaClasspath, kafkaDown, kafkaProperties, kafkaUp, kafkaVersion } from './infra/kafka.js';
export { postgresBinDir, postgresDown, postgresUp } from './infra/postgres.js';

export function writeEnvFile(s: InfraSettings): string {
  mkdirSync(s.INFRA_DIR, { recursive: true });
  const file = join(s.INFRA_DIR, 'infra.env');
  const lines = Object.entries(connectionSettings(s)).map(([k, v]) => `${k}=${v}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return lines.join('\n');
}

/** Starts both services (idempotent) and returns their connection settings. */
export async function infraUp(s: InfraSettings): Promise<Record<string, string>> {
  await Promise.all([postgresUp(s), kafkaUp(s)]);
  writeEnvFile(s);
  return connectionSettings(s);
}

async function status(s: InfraSettings): Promise<boolean> {
  const [k, p] = await Promise.all([kafkaAnswers(s), pgAnswers(s, s.INFRA_PG_DATABASE)]);
  process.stdout.write(`kafka      ${k ? 'running' : 'stopped'}  127.0.0.1:${s.INFRA_KAFKA_PORT}\n`);
  process.stdout.write(`postgresql ${p ? 'running' : 'stopped'}  127.0.0.1:${s.INFRA_PG_PORT}\n`);
  return k && p;
}

async function cli(argv: string[]): Promise<number> {
  const s = loadInfraSettings(process.env);
  switch (argv[0]) {
    case 'up':
      await infraUp(s);
      process.stdout.write(`${writeEnvFile(s)}\n`);
      return 0;
    case 'down':
      await Promise.all([kafkaDown(s), postgresDown(s)]);
      return 0;
    case 'status':
      return (await status(s)) ? 0 : 1;
    case 'wipe':
      await Promise.all([kafkaDown(s), postgresDown(s)]);
      rmSync(kafkaDir(s), { recursive: true, force: true });
      rmSync(pgDir(s), { recursive: true, force: true });
      log(`wiped ${s.INFRA_DIR}`);
      return 0;
    case 'env':
      process.stdout.write(`${writeEnvFile(s)}\n`);
      return 0;
    case 'classpath':
      process.stdout.write(`${kafkaClasspath(s)}\n`);
      return 0;
    default:
      process.stderr.write('usage: tsx scripts/infra.ts up|down|status|wipe|env|classpath\n');
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[infra] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

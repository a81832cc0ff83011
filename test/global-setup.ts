/**
 * Starts the real Kafka broker and PostgreSQL once per test run (when they do not already answer) and hands
 * their addresses to the tests. If either cannot start, the run fails: there is no switch that skips them.
 */
import type { TestProject } from 'vitest/node';
import { infraUp, loadInfraSettings } from '../scripts/infra.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const settings = loadInfraSettings(process.env);
  const started = Date.now();
  const conn = await infraUp(settings);
  console.log(`[global-setup] Kafka and PostgreSQL ready in ${Date.now() - started} ms`);
  project.provide('kafkaBrokers', process.env['KAFKA_BROKERS'] ?? conn['KAFKA_BROKERS']!);
  project.provide('databaseUrl', process.env['DATABASE_URL'] ?? conn['DATABASE_URL']!);
}

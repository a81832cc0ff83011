import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code (src/**, web/** for the page's pure logic); integration tests (test/**) run against the real Kafka broker and
// the real PostgreSQL that the global setup starts when they are not already running.
/** Integration tests that must not overlap with any other (see the serial project). */
const SERIAL = [
  'test/app-shell.test.ts',
  'test/app/sse-file-limit.test.ts',
  'test/app/built-app.test.ts',
  'test/infra/**',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Two files at a time: most integration tests wait on brokers, timers and simulations, not on the CPU. Each
        // uses its own topics, schema or private broker.
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: SERIAL,
          globalSetup: ['test/global-setup.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // One at a time, after the others: apps on the shared broker under the real topic and group names, and the
        // tests that start and stop the local infrastructure itself.
        extends: true,
        test: {
          name: 'integration-serial',
          include: SERIAL,
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});

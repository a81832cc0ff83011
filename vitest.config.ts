import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code (src/**, web/** for the page's pure logic); integration tests (test/**) run against the real Kafka broker and
// the real PostgreSQL that the global setup starts when they are not already running.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});

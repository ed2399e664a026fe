import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sdk = (path: string) => fileURLToPath(new URL(`./packages/sdk/src/${path}`, import.meta.url));

export default defineConfig({
  // The SDK's sources rather than its build, as tsconfig.json's `paths` say: a test sees an edit without a rebuild.
  resolve: {
    alias: [
      { find: /^@agentjobs\/sdk\/protocol$/, replacement: sdk('protocol/index.ts') },
      { find: /^@agentjobs\/sdk\/(client|worker|webhooks)$/, replacement: sdk('$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway PostgreSQL for the whole run (unless TEST_DATABASE_URL is set): the shared suite runs every
    // store-touching test on SQLite and on PostgreSQL.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});

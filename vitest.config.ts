import { defineConfig } from 'vitest/config';

/** Tests that need no database, no service and no seeded gateway: `npm test -- --project unit`. */
const UNIT = ['tests/unit/**/*.test.ts'];

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for yoga; Vite would
    // hand our sources the ESM one, and graphql refuses types from "another realm". One build for all.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: keep PGlite instances and real-server tests from starving each other.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // Everything else: PGlite always, real PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set.
      { extends: true, test: { name: 'integration', include: ['tests/!(unit)/**/*.test.ts'] } },
    ],
  },
});

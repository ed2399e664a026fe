import { inject } from 'vitest';
import type { ServerOptions } from '../../src/options.js';
import * as databases from './databases.js';

/** The store engines a test can run on. */
export type Engine = 'sqlite' | 'postgres';

/**
 * Every engine the shared suite runs on. `TEST_ENGINES=sqlite` (or `postgres`) narrows a run while working on
 * one engine; the full suite runs both.
 */
export const ENGINES: Engine[] = (['sqlite', 'postgres'] as const).filter(
  (engine) => !process.env.TEST_ENGINES || process.env.TEST_ENGINES.split(',').includes(engine),
);

// A test that restarts a server on the same data dir must find the same data: on PostgreSQL, the same database.
const databaseOfDataDir = new Map<string, string>();

/**
 * Server options that select an engine: on PostgreSQL a fresh, empty database — or, when `dataDir` is given,
 * the database made for that data dir before (a restart sees what the first server stored).
 */
export async function engineOptions(engine: Engine, dataDir?: string): Promise<ServerOptions> {
  if (engine === 'sqlite') return {};
  const known = dataDir ? databaseOfDataDir.get(dataDir) : undefined;
  if (known) return { databaseUrl: known };
  const databaseUrl = await createDatabase();
  if (dataDir) databaseOfDataDir.set(dataDir, databaseUrl);
  return { databaseUrl };
}

/** Creates an empty database on the test PostgreSQL server; resolves to its URL. */
export function createDatabase(): Promise<string> {
  return databases.createDatabase(adminUrl(), inject('testRun'));
}

/** Drops a database made by {@link createDatabase}. */
export function dropDatabase(databaseUrl: string): Promise<void> {
  return databases.dropDatabase(adminUrl(), databaseUrl);
}

/** The superuser URL of the test PostgreSQL server (started by global-setup.ts, or TEST_DATABASE_URL). */
export function adminUrl(): string {
  return inject('pgAdminUrl');
}

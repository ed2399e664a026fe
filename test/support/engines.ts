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

/** Server options that select an engine: a fresh, empty database for PostgreSQL. */
export async function engineOptions(engine: Engine): Promise<ServerOptions> {
  if (engine === 'sqlite') return {};
  return { databaseUrl: await createDatabase() };
}

/** Creates an empty database on the test PostgreSQL server; resolves to its URL. */
export function createDatabase(): Promise<string> {
  return databases.createDatabase(adminUrl());
}

/** Drops a database made by {@link createDatabase}. */
export function dropDatabase(databaseUrl: string): Promise<void> {
  return databases.dropDatabase(adminUrl(), databaseUrl);
}

/** The superuser URL of the test PostgreSQL server (started by global-setup.ts, or TEST_DATABASE_URL). */
export function adminUrl(): string {
  return inject('pgAdminUrl');
}

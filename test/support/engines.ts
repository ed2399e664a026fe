import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { ServerOptions } from '../../src/options.js';

/** The store engines a test can run on. */
export type Engine = 'sqlite' | 'postgres';

/**
 * Every engine the shared suite runs on. `TEST_ENGINES=sqlite` (or `postgres`) narrows a run while working on
 * one engine; the full suite always runs both.
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
export async function createDatabase(): Promise<string> {
  const name = `agentjobs_test_${randomBytes(8).toString('hex')}`;
  await admin(async (client) => {
    // CREATE DATABASE copies template1 and refuses while another CREATE holds it (55006): wait, try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name}`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by {@link createDatabase} (and ends whatever is still connected to it). */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!/^agentjobs_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop '${name}': not a test database`);
  await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/** The superuser URL of the test PostgreSQL server (started by global-setup.ts, or TEST_DATABASE_URL). */
export function adminUrl(): string {
  return inject('pgAdminUrl');
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

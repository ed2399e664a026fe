import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Creates an empty database on the PostgreSQL server of `adminUrl`; resolves to its URL. Its name starts with
 * `agentjobs_test_<run>_`, so that the run can drop whatever it left behind (see {@link dropRunDatabases}).
 */
export async function createDatabase(adminUrl: string, run = 'x'): Promise<string> {
  const name = `agentjobs_test_${run}_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, async (client) => {
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
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database made by {@link createDatabase}, ending whatever is still connected to it. */
export async function dropDatabase(adminUrl: string, databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!/^agentjobs_test_[0-9a-z]+_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop '${name}': not a test database`);
  await asAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Drops every database a run created and did not drop (servers restarted on one data dir keep theirs to the
 * end). Only this run's: other runs may share the server (TEST_DATABASE_URL).
 */
export async function dropRunDatabases(adminUrl: string, run: string): Promise<void> {
  await asAdmin(adminUrl, async (client) => {
    const { rows } = await client.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE datname LIKE $1', [`agentjobs_test_${run}_%`]);
    for (const { name } of rows) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
}

/** A short id for one test run. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

async function asAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

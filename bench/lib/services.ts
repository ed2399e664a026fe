/**
 * Probes for the services the peers need (Redis, PostgreSQL) and reads the settings that decide
 * what their figures mean — above all whether they write to disk before acknowledging.
 */
import { Socket } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';

/** What a probe found. */
export interface ServiceStatus {
  /** Whether the service answered. */
  available: boolean;
  /** Why not, when it did not. */
  reason?: string;
  /** Version and durability settings, when it did. */
  info?: Record<string, string>;
}

async function tcpOpen(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (reason?: string): void => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('error', (error) => done(`${host}:${port}: ${error.message}`));
    socket.connect(port, host, () => done());
  });
}

/**
 * Checks Redis and reads `appendonly`/`appendfsync`/`save`: with AOF off, a BullMQ `add` is
 * acknowledged from memory, which the results must say next to its throughput.
 */
export async function probeRedis(host: string, port: number): Promise<ServiceStatus> {
  const closed = await tcpOpen(host, port, 1000);
  if (closed) return { available: false, reason: closed };
  const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    const server = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(server)?.[1] ?? 'unknown';
    const get = async (key: string): Promise<string> => {
      try {
        const reply = (await redis.config('GET', key)) as string[];
        return reply[1] ?? '';
      } catch {
        return 'unreadable (CONFIG disabled)';
      }
    };
    return {
      available: true,
      info: {
        version,
        appendonly: await get('appendonly'),
        appendfsync: await get('appendfsync'),
        save: await get('save'),
      },
    };
  } catch (error) {
    return { available: false, reason: `Redis at ${host}:${port}: ${(error as Error).message}` };
  } finally {
    redis.disconnect();
  }
}

/**
 * Checks PostgreSQL and reads `fsync`, `synchronous_commit` and the version: with either off,
 * commits are not durable and a figure would flatter the peer.
 */
export async function probePostgres(connectionString: string): Promise<ServiceStatus> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const row = async (sql: string): Promise<string> => {
      const result = await client.query<{ v: string }>(sql);
      return result.rows[0]?.v ?? '';
    };
    return {
      available: true,
      info: {
        version: await row('SELECT version() AS v'),
        fsync: await row("SELECT current_setting('fsync') AS v"),
        synchronous_commit: await row("SELECT current_setting('synchronous_commit') AS v"),
        max_connections: await row("SELECT current_setting('max_connections') AS v"),
      },
    };
  } catch (error) {
    return { available: false, reason: `PostgreSQL at ${connectionString}: ${(error as Error).message}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Makes sure database `name` exists on the server of `adminUrl` (a URL of an existing database)
 * and returns the URL of `name`. A dedicated database keeps the bench away from the `test`
 * database the integration tests use, possibly at the same time.
 */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`ensureDatabase: unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } catch (error) {
        // Two runs creating it at once: the loser sees duplicate_database (42P04), which is fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Drops database `name` (disconnecting anyone still on it) and creates it empty; returns its URL.
 * For a store that must start empty each round. `WITH (FORCE)` needs PostgreSQL 13 or later.
 */
export async function recreateDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`recreateDatabase: unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` if it exists (after a run, so a bench leaves no large databases behind). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`dropDatabase: unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

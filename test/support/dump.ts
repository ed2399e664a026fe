import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import type { TestServer } from './server.js';

/**
 * Everything a test server's database holds, as bytes: the SQLite file and its WAL, or on PostgreSQL the text of
 * every row of every table (what a dump of the database would contain).
 */
export async function dumpDatabase(server: TestServer): Promise<Buffer> {
  if (!server.options.databaseUrl) {
    const base = `${server.dataDir}/agentjobs.db`;
    return Buffer.concat([base, `${base}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  }
  const client = new pg.Client({ connectionString: server.options.databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      for (const { row } of rows.rows) parts.push(row);
    }
    return Buffer.from(parts.join('\n'));
  } finally {
    await client.end();
  }
}

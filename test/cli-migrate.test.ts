import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDatabase, dropDatabase } from './support/engines.js';
import { call } from './support/server.js';
import { spawnServer } from './support/process.js';
import { assertBuilt, cleanEnv, runCli } from './support/cli.js';

describe('agentjobs migrate on PostgreSQL', () => {
  it('applies migrations while servers run, from several processes at once, and servers start on a migrated database', async () => {
    const databaseUrl = await createDatabase();
    try {
      // A fresh database: three `migrate` commands race; the advisory lock lets one apply, the others find it done.
      assertBuilt();
      const first = await Promise.all([1, 2, 3].map(() => runCli(['migrate', '--database-url', databaseUrl], cleanEnv())));
      for (const run of first) {
        expect(run.stderr).toContain('migrations applied (postgres)');
        expect(run.code).toBe(0);
      }
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-migrate-'));
      const server = await spawnServer(dataDir, ['--database-url', databaseUrl]);
      try {
        const again = await Promise.all([1, 2].map(() => runCli(['migrate'], cleanEnv({ DATABASE_URL: databaseUrl }))));
        for (const run of again) expect(run.code).toBe(0);
        const ready = await call(server.url, 'GET', '/readyz');
        expect(ready.body).toEqual({ status: 'ready' });
        const agents = await call(server.url, 'GET', '/v1/agents', undefined, { token: server.apiKey });
        expect(agents.status).toBe(200);
      } finally {
        await server.kill('SIGTERM');
        rmSync(dataDir, { recursive: true, force: true });
      }
    } finally {
      await dropDatabase(databaseUrl);
    }
  });
});

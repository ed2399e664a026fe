import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, engineOptions } from './support/engines.js';
import { call } from './support/server.js';
import { eventually } from './support/fixtures.js';
import { spawnServer } from './support/process.js';

for (const engine of ENGINES) {
  describe(`deadlines hold across restarts (${engine})`, () => {
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('fails a hung job with timeout within a second of its deadline even when the server was killed between start and deadline', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-deadline-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const db = await engineOptions(engine, dataDir);
      const args = db.databaseUrl ? ['--database-url', db.databaseUrl] : [];
      const first = await spawnServer(dataDir, args);
      cleanup.push(() => first.kill());
      const agent = await call(first.url, 'POST', '/v1/agents', { name: 'hangs' }, { token: first.apiKey });
      const worker = { token: agent.body.worker_token };
      const job = await call(first.url, 'POST', '/v1/jobs', { agent_id: agent.body.id, brief: { objective: 'hang', constraints: { max_duration_seconds: 4 } } }, { token: first.apiKey });
      const claimed = await call(first.url, 'POST', `/v1/agents/${agent.body.id}/claim`, { lease_seconds: 60 }, worker);
      const lease = claimed.body.jobs[0].lease.token;
      await first.kill('SIGKILL');

      const second = await spawnServer(dataDir, args);
      cleanup.push(() => second.kill());
      const failed = await eventually(async () => {
        const res = await call(second.url, 'GET', `/v1/jobs/${job.body.id}`, undefined, { token: second.apiKey });
        return res.body.status === 'failed' ? res.body : null;
      }, 10_000, 25);
      expect(failed.error.code).toBe('timeout');
      const late = Date.parse(failed.completed_at) - Date.parse(failed.deadline_at);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
      const stale = await call(second.url, 'POST', `/v1/jobs/${job.body.id}/complete`, { lease_token: lease, result: 'late' }, worker);
      expect(stale.body.error.code).toBe('lease_lost');
    });
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, engineOptions } from './support/engines.js';
import { call } from './support/server.js';
import { spawnServer, type ServerProcess } from './support/process.js';

for (const engine of ENGINES) {
  describe(`crash recovery with kill -9 (${engine})`, () => {
    const cleanup: Array<() => Promise<unknown> | void> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    async function start(dataDir: string): Promise<ServerProcess> {
      const options = await engineOptions(engine, dataDir);
      const server = await spawnServer(dataDir, options.databaseUrl ? ['--database-url', options.databaseUrl] : []);
      cleanup.push(() => server.kill());
      return server;
    }

    it('keeps every job that was answered 202 when the server is killed while 16 clients dispatch', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-crash-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const server = await start(dataDir);
      const agent = await call(server.url, 'POST', '/v1/agents', { name: 'crash' }, { token: server.apiKey });
      const accepted: string[] = [];
      let stop = false;
      const clients = Array.from({ length: 16 }, async () => {
        while (!stop) {
          try {
            const res = await call(server.url, 'POST', '/v1/jobs', { agent_id: agent.body.id, brief: { objective: 'survive' } }, { token: server.apiKey });
            if (res.status === 202) accepted.push(res.body.id);
          } catch {
            return; // the connection died with the server: that request was never acknowledged
          }
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      await server.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      expect(accepted.length).toBeGreaterThan(50);

      const again = await start(dataDir);
      const missing: string[] = [];
      for (const id of accepted) {
        const res = await call(again.url, 'GET', `/v1/jobs/${id}`, undefined, { token: again.apiKey });
        if (res.status !== 200) missing.push(id);
      }
      expect(missing).toEqual([]);
    });

    it('leases a job that was running at the crash again when its lease ends, and completes it exactly once', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-crash-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const server = await start(dataDir);
      const agent = await call(server.url, 'POST', '/v1/agents', { name: 'crash' }, { token: server.apiKey });
      const worker = { token: agent.body.worker_token };
      const job = await call(server.url, 'POST', '/v1/jobs', { agent_id: agent.body.id, brief: { objective: 'x' } }, { token: server.apiKey });
      const first = await call(server.url, 'POST', `/v1/agents/${agent.body.id}/claim`, { lease_seconds: 2 }, worker);
      expect(first.body.jobs[0].job.id).toBe(job.body.id);
      await server.kill('SIGKILL');

      const again = await start(dataDir);
      const started = Date.now();
      const second = await call(again.url, 'POST', `/v1/agents/${agent.body.id}/claim`, { wait_seconds: 15 }, worker);
      expect(second.body.jobs[0].job).toMatchObject({ id: job.body.id, attempt: 2 });
      expect(Date.now() - started).toBeLessThan(10_000);
      const stale = await call(again.url, 'POST', `/v1/jobs/${job.body.id}/complete`, { lease_token: first.body.jobs[0].lease.token, result: 'old' }, worker);
      expect(stale.status).toBe(409);
      const done = await call(again.url, 'POST', `/v1/jobs/${job.body.id}/complete`, { lease_token: second.body.jobs[0].lease.token, result: 'new' }, worker);
      expect(done.status).toBe(200);
      const events = await call(again.url, 'GET', `/v1/jobs/${job.body.id}/events`, undefined, { token: again.apiKey });
      expect(events.body.data.map((e: any) => e.type)).toEqual(['job.queued', 'job.running', 'job.queued', 'job.running', 'job.completed']);
    });
  });
}

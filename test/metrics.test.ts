import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker } from '@agentjobs/sdk/worker';
import { ENGINES } from './support/engines.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { createAgent, dispatch, eventually } from './support/fixtures.js';
import { pooledFetch } from './support/http-client.js';

/** The value of one sample of the Prometheus text, e.g. sample(text, 'agentjobs_jobs{status="queued"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const engine of ENGINES) {
  describe(`GET /metrics (${engine})`, () => {
    let server: TestServer;
    let receiver: Server;
    let hookUrl: string;

    beforeAll(async () => {
      server = await startTestServer(engine);
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(req.url === '/down' ? 503 : 204).end());
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      let t = Date.now();
      await new Promise((resolve) => receiver?.close(resolve));
      console.log('receiver', Date.now() - t); t = Date.now();
      await server?.stop();
      console.log('server', Date.now() - t);
    });

    const scrape = async () => {
      const res = await call(server.url, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return res.text;
    };

    it('counts jobs by status, queue depth per agent, dispatch and claim latency, and webhook attempts by outcome', async () => {
      const agent = await createAgent(server, { name: 'counted' });
      await dispatch(server, agent.id, { observers: [{ type: 'webhook', url: `${hookUrl}/ok`, events: ['completed'] }] });
      await dispatch(server, agent.id, { observers: [{ type: 'webhook', url: `${hookUrl}/down`, events: ['completed'] }] });

      const before = await scrape();
      expect(sample(before, 'agentjobs_jobs{status="queued"}')).toBe(2);
      expect(sample(before, 'agentjobs_jobs{status="running"}')).toBe(0);
      expect(sample(before, 'agentjobs_jobs_finished_total{status="completed"}')).toBeUndefined();
      expect(sample(before, `agentjobs_queue_depth{agent_id="${agent.id}"}`)).toBe(2);
      expect(sample(before, `agentjobs_agent_running_jobs{agent_id="${agent.id}"}`)).toBe(0);
      expect(sample(before, 'agentjobs_dispatch_duration_seconds_count{kind="job",status_code="202"}')).toBe(2);

      const client = pooledFetch();
      const worker = runWorker({ url: server.url, agentId: agent.id, token: agent.token, handler: () => ({ ok: true }), waitSeconds: 1, fetch: client.fetch, onError: () => {} });
      try {
        await eventually(async () => {
          const text = await scrape();
          return sample(text, 'agentjobs_webhook_attempts_total{outcome="ok"}') === 1 && sample(text, 'agentjobs_webhook_attempts_total{outcome="http_status"}') === 1;
        });
      } finally {
        await worker.stop();
        await client.close();
      }

      const after = await scrape();
      expect(sample(after, 'agentjobs_jobs{status="queued"}')).toBe(0);
      expect(sample(after, 'agentjobs_jobs{status="running"}')).toBe(0);
      if (engine === 'postgres') {
        // With several writing processes, the finished count trails database time by 10 s (src/http/metrics.ts).
        await eventually(async () => sample(await scrape(), 'agentjobs_jobs_finished_total{status="completed"}') === 2, 20_000, 500);
      } else {
        expect(sample(after, 'agentjobs_jobs_finished_total{status="completed"}')).toBe(2);
      }
      expect(sample(after, `agentjobs_queue_depth{agent_id="${agent.id}"}`)).toBe(0);
      expect(sample(after, 'agentjobs_claim_duration_seconds_count{result="jobs",long_poll="true"}')).toBeGreaterThanOrEqual(1);
      expect(sample(after, 'agentjobs_webhook_attempt_duration_seconds_count{outcome="ok"}')).toBe(1);
      // The process metrics come along, for the usual dashboards.
      expect(after).toMatch(/^process_cpu_user_seconds_total /m);
    });

    it('needs no API key and is left out of nothing else: the API still does', async () => {
      expect((await call(server.url, 'GET', '/metrics', undefined, { token: null })).status).toBe(200);
      expect((await call(server.url, 'GET', '/v1/agents', undefined, { token: null })).status).toBe(401);
    });
  });
}

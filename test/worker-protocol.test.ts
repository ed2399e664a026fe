import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker } from '@agentjobs/sdk/worker';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventTypes, eventually, expireLease, getJob } from './support/fixtures.js';

for (const engine of ENGINES) {
  describe(`the worker protocol (${engine})`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
    });
    afterAll(() => server.stop());

    const as = (token: string) => ({ token });

    it('re-queues a job whose lease expired, with attempt + 1, and leases it again', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const [first] = await claim(server, agent);
      await expireLease(server, id);
      await eventually(async () => (await getJob(server, id)).status === 'queued');
      expect((await getJob(server, id)).attempt).toBe(2);
      const [second] = await claim(server, agent);
      expect(second.job.id).toBe(id);
      expect(second.job.attempt).toBe(2);
      expect(second.lease.token).not.toBe(first.lease.token);
    });

    it('never lets a stale worker complete, fail or heartbeat the newer attempt (409 lease_lost)', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const [stale] = await claim(server, agent);
      await expireLease(server, id);
      await eventually(async () => (await getJob(server, id)).status === 'queued');
      const [fresh] = await claim(server, agent);
      for (const [route, body] of [
        ['complete', { lease_token: stale.lease.token, result: 'A' }],
        ['fail', { lease_token: stale.lease.token, error: { message: 'stale' } }],
        ['heartbeat', { lease_token: stale.lease.token }],
        ['subjobs', { lease_token: stale.lease.token, agent_id: agent.id, brief: { objective: 'x' } }],
        ['tool-calls', { lease_token: stale.lease.token, tool: 'search' }],
      ] as const) {
        const res = await server.api('POST', `/v1/jobs/${id}/${route}`, body, as(agent.token));
        expect(res.status, route).toBe(409);
        expect(res.body.error.code, route).toBe('lease_lost');
        expect(res.body.error.message, route).toContain("this lease token is not attempt 2's");
      }
      // A token that never held the job gets the same answer, and is not told of an attempt that does not exist.
      const other = await createAgent(server);
      const only = await dispatch(server, other.id);
      await claim(server, other);
      const bogus = await server.api('POST', `/v1/jobs/${only}/complete`, { lease_token: 'lt_bogus', result: 'A' }, as(other.token));
      expect(bogus.status).toBe(409);
      expect(bogus.body.error.message).toContain("this lease token is not attempt 1's — check that you send the lease_token your claim returned");
      const before = await getJob(server, id);
      expect(before).toMatchObject({ status: 'running', attempt: 2, subjobs: [] });
      const done = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: fresh.lease.token, result: 'B' }, as(agent.token));
      expect(done.status).toBe(200);
      expect((await getJob(server, id)).result).toBe('B');
      expect((await eventTypes(server, id)).filter((t) => t === 'job.completed')).toHaveLength(1);
    });

    it("answers 404 to a worker token on another agent's job, as for a job that does not exist", async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const [held] = await claim(server, agent);
      const other = await createAgent(server);
      const token = held.lease.token;
      for (const [route, body] of [
        ['complete', { lease_token: token, result: 'A' }],
        ['fail', { lease_token: token, error: { message: 'x' } }],
        ['heartbeat', { lease_token: token }],
        ['subjobs', { lease_token: token, agent_id: other.id, brief: { objective: 'x' } }],
        ['tool-calls', { lease_token: token, tool: 'search' }],
      ] as const) {
        const res = await server.api('POST', `/v1/jobs/${id}/${route}`, body, as(other.token));
        expect(res.status, route).toBe(404);
        expect(res.body.error.code, route).toBe('job_not_found');
        expect(res.body.error.message, route).not.toContain('running');
      }
      expect(await getJob(server, id)).toMatchObject({ status: 'running', result: null, subjobs: [] });
    });

    it('fails a job with lease_expired once max_attempts runs have lost their lease', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'x', constraints: { max_attempts: 2 } } });
      for (let attempt = 1; attempt <= 2; attempt++) {
        const [item] = await claim(server, agent);
        expect(item.job.attempt).toBe(attempt);
        await expireLease(server, id);
        await eventually(async () => (await getJob(server, id)).status !== 'running');
      }
      const job = await getJob(server, id);
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('lease_expired');
      expect(job.completed_at).not.toBeNull();
    });

    it('re-queues a retryable failure while attempts remain, then fails with the agent error', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'x', constraints: { max_attempts: 2 } } });
      const [a] = await claim(server, agent);
      const first = await server.api('POST', `/v1/jobs/${id}/fail`, { lease_token: a.lease.token, error: { code: 'flaky', message: 'try again' }, retryable: true }, as(agent.token));
      expect(first.body).toMatchObject({ status: 'queued', attempt: 2 });
      const [b] = await claim(server, agent);
      const second = await server.api('POST', `/v1/jobs/${id}/fail`, { lease_token: b.lease.token, error: { code: 'flaky', message: 'still broken' }, retryable: true }, as(agent.token));
      expect(second.body).toMatchObject({ status: 'failed', error: { code: 'flaky', message: 'still broken' } });
    });

    it('cancels a queued job at once and answers 409 job_already_finished on finished jobs', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const res = await server.api('POST', `/v1/jobs/${id}/cancel`);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect((await server.api('POST', `/v1/jobs/${id}/cancel`)).status).toBe(202);
      expect(await claim(server, agent)).toEqual([]);

      const done = await dispatch(server, agent.id);
      const [item] = await claim(server, agent);
      await server.api('POST', `/v1/jobs/${done}/complete`, { lease_token: item.lease.token, result: 1 }, as(agent.token));
      const refused = await server.api('POST', `/v1/jobs/${done}/cancel`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('job_already_finished');
    });

    it('keeps a running job running with cancel_requested_at until its agent confirms', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const [item] = await claim(server, agent);
      const res = await server.api('POST', `/v1/jobs/${id}/cancel`);
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('running');
      expect(res.body.cancel_requested_at).not.toBeNull();
      const beat = await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: item.lease.token }, as(agent.token));
      expect(beat.body.cancel_requested).toBe(true);
      const complete = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: 1 }, as(agent.token));
      expect(complete.status).toBe(409);
      expect(complete.body.error.code).toBe('cancel_requested');
      const confirm = await server.api('POST', `/v1/jobs/${id}/fail`, { lease_token: item.lease.token, error: { message: 'stopped' } }, as(agent.token));
      expect(confirm.body).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect(await eventTypes(server, id)).toEqual(['job.queued', 'job.running', 'job.cancel_requested', 'job.cancelled']);
    });

    it('cancels a running job when its lease ends without a confirmation (never re-queues it)', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      await claim(server, agent);
      await server.api('POST', `/v1/jobs/${id}/cancel`);
      await expireLease(server, id);
      await eventually(async () => (await getJob(server, id)).status === 'cancelled');
      expect((await getJob(server, id)).attempt).toBe(1);
    });

    it('counts tokens as running totals: a retried or smaller report never counts twice', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const [item] = await claim(server, agent);
      for (const tokens of [100, 100, 80, 250]) {
        await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: item.lease.token, tokens_used: tokens }, as(agent.token));
      }
      expect((await getJob(server, id)).tokens_used).toBe(250);
    });

    it('gives a claim its own lease_seconds', async () => {
      const agent = await createAgent(server);
      await dispatch(server, agent.id);
      const before = Date.now();
      const [item] = await claim(server, agent, { lease_seconds: 120 });
      const ms = Date.parse(item.lease.expires_at) - before;
      expect(ms).toBeGreaterThan(115_000);
      expect(ms).toBeLessThan(125_000);
    });

    it('returns an empty list when nothing is queued and the wait ends', async () => {
      const agent = await createAgent(server);
      const started = Date.now();
      expect(await claim(server, agent, { wait_seconds: 0.3 })).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    });

    it('counts workers seen in the last minute on the agent', async () => {
      const agent = await createAgent(server);
      await claim(server, agent, { worker_id: 'w-1' });
      await claim(server, agent, { worker_id: 'w-2' });
      const view = await server.api('GET', `/v1/agents/${agent.id}`);
      expect(view.body.counts.workers_seen_last_minute).toBe(2);
      expect(view.body.last_seen_at).not.toBeNull();
    });
  });
}

describe('the SDK worker, by default', () => {
  it('reports a server it cannot reach in one line per retry, not a stack trace', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void lines.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
    try {
      const worker = runWorker({ url: `http://127.0.0.1:${port}`, agentId: 'agt_unreachable', token: 'awt_x', handler: () => ({}) });
      await eventually(async () => lines.length >= 1 || undefined);
      await worker.stop();
    } finally {
      console.error = original;
    }
    expect(lines[0]).toMatch(new RegExp(`^agentjobs worker: Could not reach http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(lines[0]).not.toContain('\n');
  });
});

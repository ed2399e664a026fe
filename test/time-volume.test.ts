import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventually } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { createKeyForTenant } from '../src/jobs/tenants.js';

// Issue 21: delayed starts, retry backoff, batches, re-runs and bulk actions (SPEC §11). Time moves with an
// injected clock (database time plus an offset the test sets), never by waiting.

const SECOND = 1000;

for (const engine of ENGINES) {
  describe(`time and volume (${engine})`, () => {
    let server: TestServer;
    let agent: { id: string; token: string };
    let offset = 0;
    const receiver = new Receiver();
    const now = () => Date.now() + offset;
    /** Moves the server's clock forward; the timer sweep looks at least every 500 ms. */
    const advance = (ms: number) => {
      offset += ms;
    };

    beforeAll(async () => {
      await receiver.start();
      server = await startTestServer(engine, { clock: now });
      agent = await createAgent(server, { name: 'timed' });
    });
    afterAll(async () => {
      await server?.stop();
      await receiver.stop();
    });

    /** Completes every job handed out by a claim, up to `n` jobs. */
    async function drain(n: number, a = agent): Promise<string[]> {
      const done: string[] = [];
      while (done.length < n) {
        const items = await claim(server, a, { max_jobs: Math.min(100, n - done.length) });
        if (items.length === 0) break;
        await Promise.all(
          items.map(async ({ job, lease }) => {
            const res = await server.api('POST', `/v1/jobs/${job.id}/complete`, { lease_token: lease.token, result: { ok: true } }, { token: a.token });
            expect(res.status).toBe(200);
            done.push(job.id);
          }),
        );
      }
      return done;
    }

    it('does not hand out a delayed job early, and wakes a waiting worker when it becomes ready', async () => {
      const a = await createAgent(server, { name: 'delayed' });
      const res = await server.api('POST', '/v1/jobs', { agent_id: a.id, brief: { objective: 'later' }, delay_seconds: 3600 });
      expect(res.status).toBe(202);
      const job = (await server.api('GET', `/v1/jobs/${res.body.id}`)).body;
      expect(job.status).toBe('queued');
      expect(Date.parse(job.scheduled_for) - Date.parse(job.created_at)).toBe(3600 * SECOND);
      expect(await claim(server, a, { max_jobs: 10 })).toEqual([]);

      const waiting = claim(server, a, { max_jobs: 1, wait_seconds: 10 });
      await new Promise((r) => setTimeout(r, 200));
      const movedAt = Date.now();
      advance(3600 * SECOND);
      const items = await waiting;
      expect(items.map((i) => i.job.id)).toEqual([res.body.id]);
      // Woken by the timer sweep (which looks at least every 500 ms), not by the end of the long poll.
      expect(Date.now() - movedAt).toBeLessThan(3000);
    });

    it('runs a job whose not_before has passed at once, and counts max_queue_seconds from scheduled_for', async () => {
      const a = await createAgent(server, { name: 'not-before' });
      const past = await server.api('POST', '/v1/jobs', { agent_id: a.id, brief: { objective: 'now' }, not_before: new Date(now() - 60_000).toISOString() });
      expect(past.status).toBe(202);
      expect((await claim(server, a)).map((i) => i.job.id)).toEqual([past.body.id]);

      const at = new Date(now() + 600 * SECOND).toISOString();
      const later = await server.api('POST', '/v1/jobs', {
        agent_id: a.id,
        brief: { objective: 'in ten minutes', constraints: { max_queue_seconds: 60 } },
        not_before: at,
      });
      advance(120 * SECOND);
      // Two minutes in, its queue time has not started yet: still queued.
      await new Promise((r) => setTimeout(r, 700));
      expect((await server.api('GET', `/v1/jobs/${later.body.id}`)).body.status).toBe('queued');
      advance(600 * SECOND);
      const failed = await eventually(async () => {
        const job = (await server.api('GET', `/v1/jobs/${later.body.id}`)).body;
        return job.status === 'failed' ? job : null;
      });
      expect(failed.error.code).toBe('queue_timeout');
      expect(failed.scheduled_for).toBe(at);
    });

    it('refuses a start years ahead, both fields at once, and a delay on a subjob past the limit, naming the field', async () => {
      const far = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' }, not_before: '2099-01-01T00:00:00Z' });
      expect(far.status).toBe(400);
      expect(far.body.error.message).toMatch(/^not_before .*365 days/);
      const both = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' }, delay_seconds: 5, not_before: '2030-01-01T00:00:00Z' });
      expect(both.status).toBe(400);
      expect(both.body.error.message).toContain('not_before and delay_seconds');
      const negative = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' }, delay_seconds: -1 });
      expect(negative.status).toBe(400);
      expect(negative.body.error.message).toContain('delay_seconds');
    });

    it('delays a subjob with delay_seconds like a dispatch', async () => {
      const a = await createAgent(server, { name: 'parent-of-delayed' });
      await dispatch(server, a.id);
      const [{ job, lease }] = await claim(server, a);
      const child = await server.api('POST', `/v1/jobs/${job.id}/subjobs`, { lease_token: lease.token, agent_id: a.id, brief: { objective: 'later child' }, delay_seconds: 30 }, { token: a.token });
      expect(child.status).toBe(202);
      expect(await claim(server, a)).toEqual([]);
      advance(31 * SECOND);
      expect((await claim(server, a)).map((i) => i.job.id)).toEqual([child.body.id]);
    });

    it('backs off between attempts as constraints.retry says, within the jitter, for fails and lease expiries', async () => {
      const a = await createAgent(server, { name: 'flaky' });
      const retry = { backoff: 'exponential', initial_seconds: 10, max_seconds: 25 };
      const id = await dispatch(server, a.id, { brief: { objective: 'flaky', constraints: { retry, max_attempts: 5 } } });
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 4; attempt++) {
        const items = await eventually(async () => {
          const got = await claim(server, a);
          return got.length > 0 ? got : null;
        });
        expect(items[0].job.attempt).toBe(attempt);
        if (attempt === 3) {
          // This attempt's worker vanishes: its lease runs out, and the retry backs off all the same.
          advance(31 * SECOND);
        } else {
          const fail = await server.api('POST', `/v1/jobs/${id}/fail`, { lease_token: items[0].lease.token, error: { message: 'try again' }, retryable: true }, { token: a.token });
          expect(fail.status).toBe(200);
        }
        const job = await eventually(async () => {
          const j = (await server.api('GET', `/v1/jobs/${id}`)).body;
          return j.status === 'queued' && j.attempt === attempt + 1 ? j : null;
        });
        const delay = Date.parse(job.scheduled_for) - now();
        delays.push(delay);
        // Not ready before its time: no claim takes it.
        expect(await claim(server, a)).toEqual([]);
        advance(delay + SECOND);
      }
      // Policy delays 10 s, 20 s, 25 s (40 s capped), 25 s; jitter takes up to 20 % off, never adds. The lease
      // expiry's delay is measured from the sweep that found it, a little after the clock moved.
      const ceilings = [10, 20, 25, 25].map((s) => s * SECOND);
      delays.forEach((delay, i) => {
        expect(delay, `delay ${i + 1}`).toBeGreaterThan(ceilings[i] * 0.8 - 2 * SECOND);
        expect(delay, `delay ${i + 1}`).toBeLessThanOrEqual(ceilings[i]);
      });
    });

    it('stores a batch of 1,000 whole, counts it, and sends batch.completed once, after its last job', { timeout: 180_000 }, async () => {
      const a = await createAgent(server, { name: 'batched' });
      const jobs = Array.from({ length: 1000 }, (_, i) => ({ agent_id: a.id, brief: { objective: `item ${i}` }, metadata: { i } }));
      const res = await server.api('POST', '/v1/batches', { jobs, observers: [{ type: 'webhook', url: receiver.url }], metadata: { run: 'nightly' } });
      expect(res.status).toBe(202);
      expect(res.body.id).toMatch(/^bat_/);
      expect(res.body.job_ids).toHaveLength(1000);
      const batchId = res.body.id;
      let batch = (await server.api('GET', `/v1/batches/${batchId}`)).body;
      expect(batch).toMatchObject({ total: 1000, counts: { queued: 1000, running: 0, completed: 0 }, completed_at: null, metadata: { run: 'nightly' } });
      const page = await server.api('GET', `/v1/jobs?batch_id=${batchId}&limit=100`);
      expect(page.body.data).toHaveLength(100);
      expect(page.body.data.every((j: any) => j.batch_id === batchId)).toBe(true);
      // In request order: the first id is the first item.
      expect((await server.api('GET', `/v1/jobs/${res.body.job_ids[0]}`)).body.brief.objective).toBe('item 0');

      const done = await drain(999, a);
      expect(done).toHaveLength(999);
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received.filter((r) => r.json?.type === 'batch.completed')).toHaveLength(0);
      expect(await drain(1, a)).toHaveLength(1);
      const message = await eventually(() => receiver.received.find((r) => r.json?.type === 'batch.completed'));
      expect(message.json.data.batch).toMatchObject({ id: batchId, counts: { completed: 1000, queued: 0 } });
      batch = (await server.api('GET', `/v1/batches/${batchId}`)).body;
      expect(batch.completed_at).not.toBeNull();
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received.filter((r) => r.json?.type === 'batch.completed')).toHaveLength(1);
    });

    it('stores nothing of a batch with one bad item, and names the item', async () => {
      const a = await createAgent(server, { name: 'bad-batch' });
      const jobs = Array.from({ length: 1000 }, (_, i) => ({ agent_id: a.id, brief: { objective: i === 3 ? '' : `item ${i}` } }));
      const bad = await server.api('POST', '/v1/batches', { jobs });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain('jobs[3].brief.objective');
      jobs[3].brief.objective = 'fixed';
      (jobs[7] as any).agent_id = 'agt_00000000000000000000000000';
      const unknown = await server.api('POST', '/v1/batches', { jobs });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toMatch(/^jobs\[7\]\.agent_id/);
      const far = await server.api('POST', '/v1/batches', { jobs: [{ agent_id: a.id, brief: { objective: 'x' } }, { agent_id: a.id, brief: { objective: 'x' }, delay_seconds: 1e9 }] });
      expect(far.status).toBe(400);
      expect(far.body.error.message).toMatch(/^jobs\[1\]\.delay_seconds/);
      expect((await server.api('GET', `/v1/jobs?agent_id=${a.id}`)).body.data).toEqual([]);
      const tooMany = await server.api('POST', '/v1/batches', { jobs: Array.from({ length: 1001 }, () => ({ agent_id: a.id, brief: { objective: 'x' } })) });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.message).toMatch(/jobs/);
      expect(tooMany.body.error.message).toMatch(/1000/);
    });

    it('cancels a batch: every unfinished job, and batch.completed once they have all ended', async () => {
      const a = await createAgent(server, { name: 'cancelled-batch' });
      const res = await server.api('POST', '/v1/batches', {
        jobs: Array.from({ length: 5 }, (_, i) => ({ agent_id: a.id, brief: { objective: `c${i}` } })),
        observers: [{ type: 'webhook', url: receiver.url }],
      });
      const [{ job, lease }] = await claim(server, a);
      const cancelled = await server.api('POST', `/v1/batches/${res.body.id}/cancel`);
      expect(cancelled.status).toBe(202);
      expect(cancelled.body.counts).toMatchObject({ cancelled: 4, running: 1 });
      expect(cancelled.body.completed_at).toBeNull();
      // The running one's agent confirms; that ends the batch.
      await server.api('POST', `/v1/jobs/${job.id}/fail`, { lease_token: lease.token, error: { message: 'stopped' } }, { token: a.token });
      const batch = (await server.api('GET', `/v1/batches/${res.body.id}`)).body;
      expect(batch.counts.cancelled).toBe(5);
      expect(batch.completed_at).not.toBeNull();
      await eventually(() => receiver.received.find((r) => r.json?.type === 'batch.completed' && r.json.data.batch.id === res.body.id));
      expect((await server.api('GET', '/v1/batches/bat_00000000000000000000000000')).status).toBe(404);
    });

    it('re-runs a job with its brief, replacing the fields given, and names the original', async () => {
      const a = await createAgent(server, { name: 'rerun' });
      const id = await dispatch(server, a.id, {
        brief: { objective: 'first try', context: 'keep me' },
        metadata: { customer: 'acme' },
        observers: [{ type: 'webhook', url: receiver.url, events: ['failed'] }],
      });
      const [{ lease }] = await claim(server, a);
      await server.api('POST', `/v1/jobs/${id}/fail`, { lease_token: lease.token, error: { message: 'nope' } }, { token: a.token });
      const rerun = await server.api('POST', `/v1/jobs/${id}/rerun`, { brief: { objective: 'second try' } });
      expect(rerun.status).toBe(202);
      expect(rerun.headers.get('location')).toBe(`/v1/jobs/${rerun.body.id}`);
      const job = (await server.api('GET', `/v1/jobs/${rerun.body.id}`)).body;
      expect(job).toMatchObject({ status: 'queued', rerun_of: id, brief: { objective: 'second try', context: 'keep me' }, metadata: { customer: 'acme' } });
      expect(job.observers).toEqual([{ type: 'webhook', url: receiver.url, events: ['failed'], has_secret: false }]);
      expect((await server.api('POST', `/v1/jobs/${id}/rerun`, { agent_id: 'agt_00000000000000000000000000' })).status).toBe(404);
      expect((await server.api('POST', '/v1/jobs/job_00000000000000000000000000/rerun')).status).toBe(404);
    });

    it('bulk-cancels and bulk-re-runs by filter, only the caller’s jobs, and refuses an empty filter', async () => {
      const a = await createAgent(server, { name: 'bulk' });
      const other = await createKeyForTenant(server.store, 'other-tenant', null);
      const theirs = (await server.api('POST', '/v1/agents', { name: 'bulk' }, { token: other.key })).body;
      for (let i = 0; i < 3; i++) await dispatch(server, a.id, { metadata: { night: 'tuesday' } });
      const theirJob = (await server.api('POST', '/v1/jobs', { agent_id: theirs.id, brief: { objective: 'theirs' }, metadata: { night: 'tuesday' } }, { token: other.key })).body.id;

      const empty = await server.api('POST', '/v1/jobs/bulk-cancel', { filter: {} });
      expect(empty.status).toBe(400);
      expect(empty.body.error.message).toMatch(/filter/);
      // Their agent's id in our filter moves nothing.
      expect((await server.api('POST', '/v1/jobs/bulk-cancel', { filter: { agent_id: theirs.id } })).body).toEqual({ matched: 0 });
      const cancelled = await server.api('POST', '/v1/jobs/bulk-cancel', { filter: { status: 'queued', metadata: { night: 'tuesday' } } });
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toEqual({ matched: 3 });
      expect((await server.api('GET', `/v1/jobs/${theirJob}`, undefined, { token: other.key })).body.status).toBe('queued');

      const rerun = await server.api('POST', '/v1/jobs/bulk-rerun', { filter: { agent_id: a.id, status: 'cancelled' } });
      expect(rerun.body).toEqual({ matched: 3 });
      const reruns = (await server.api('GET', `/v1/jobs?agent_id=${a.id}&status=queued`)).body.data;
      expect(reruns).toHaveLength(3);
      expect(reruns.every((j: any) => j.rerun_of != null)).toBe(true);
      const again = await server.api('POST', '/v1/jobs/bulk-rerun', { filter: { metadata: { night: 'tuesday' }, status: 'queued' } });
      expect(again.body).toEqual({ matched: 3 });
      expect((await server.api('GET', `/v1/jobs?agent_id=${theirs.id}`, undefined, { token: other.key })).body.data).toHaveLength(1);
    });
  });
}

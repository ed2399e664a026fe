import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventTypes, eventually, expireLease, getJob } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { runWorker, SubjobFailedError, type WorkerHandle } from '@agentjobs/sdk/worker';
import { AgentJobsClient, AgentJobsError } from '@agentjobs/sdk/client';

for (const engine of ENGINES) {
  describe(`job trees (${engine})`, () => {
    let server: TestServer;
    let client: AgentJobsClient;
    const workers: WorkerHandle[] = [];
    const receivers: Receiver[] = [];
    beforeEach(async () => {
      server = await startTestServer(engine);
      client = new AgentJobsClient({ url: server.url, apiKey: server.apiKey });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await Promise.all(receivers.splice(0).map((r) => r.stop()));
      await server.stop();
    });
    const worker = (agent: { id: string; token: string }, handler: Parameters<typeof runWorker>[0]['handler'], extra: Partial<Parameters<typeof runWorker>[0]> = {}) => {
      const handle = runWorker({ url: server.url, agentId: agent.id, token: agent.token, concurrency: 8, waitSeconds: 2, handler, onError: () => {}, ...extra });
      workers.push(handle);
      return handle;
    };
    const receiver = async () => {
      const r = await new Receiver().start();
      receivers.push(r);
      return r;
    };

    it('runs a three-level tree: the nested tree shows, tokens add up exactly, and the root observer hears all ten jobs', async () => {
      const lead = await createAgent(server, { name: 'lead' });
      const specialist = await createAgent(server, { name: 'specialist' });
      const helper = await createAgent(server, { name: 'helper' });
      worker(lead, async (job, ctx) => {
        ctx.reportTokens(10);
        const handles = await Promise.all(['a', 'b', 'c'].map((topic) => ctx.dispatch(specialist.id, { objective: `research ${topic}` })));
        return { parts: await Promise.all(handles.map((h) => h.result())) };
      });
      worker(specialist, async (job, ctx) => {
        ctx.reportTokens(20);
        const handles = await Promise.all([1, 2].map((n) => ctx.dispatch(helper.id, { objective: `${job.brief.objective} / part ${n}` })));
        return (await Promise.all(handles.map((h) => h.result<string>()))).join(' + ');
      });
      worker(helper, async (job, ctx) => {
        ctx.reportTokens(5);
        return job.brief.objective;
      });
      const hook = await receiver();
      const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'report' }, observers: [{ type: 'webhook', url: hook.url }] });
      const root = await client.waitForJob(id);
      expect(root.status).toBe('completed');
      expect(root.result).toEqual({ parts: ['research a / part 1 + research a / part 2', 'research b / part 1 + research b / part 2', 'research c / part 1 + research c / part 2'] });
      expect(root.subjobs).toHaveLength(3);
      for (const child of root.subjobs) {
        expect(child).toMatchObject({ agent_id: specialist.id, status: 'completed', tokens_used: 30 });
        expect(child.subjobs).toHaveLength(2);
        for (const grandchild of child.subjobs) expect(grandchild).toMatchObject({ agent_id: helper.id, status: 'completed', tokens_used: 5, subjobs: [] });
      }
      expect(root.tokens_used).toBe(10 + 3 * 20 + 6 * 5);
      expect(root.tokens_used_self).toBe(10);
      const child = await getJob(server, root.subjobs[0].id);
      expect(child).toMatchObject({ parent_job_id: id, root_job_id: id, depth: 1, tokens_used: 30, tokens_used_self: 20 });
      // The root belongs to its own tree.
      expect((await client.listJobs({ root_job_id: id, limit: 100 })).data).toHaveLength(10);
      expect((await client.listJobs({ parent_job_id: id })).data).toHaveLength(3);

      await eventually(() => hook.received.length >= 20);
      const heard = hook.received.map((r) => r.json);
      const ids = new Set(heard.map((m) => m.data.job.id));
      expect(ids.size).toBe(10);
      for (const jobId of ids) {
        const mine = heard.filter((m) => m.data.job.id === jobId).map((m) => m.type);
        expect(mine.sort()).toEqual(['job.completed', 'job.running']);
      }
      expect(heard.every((m) => m.data.observer_job_id === id)).toBe(true);
    });

    it('cancels a tree mid-flight: queued descendants at once, running ones when their workers confirm, and observers hear it', async () => {
      const lead = await createAgent(server, { name: 'lead' });
      const slow = await createAgent(server, { name: 'slow', max_concurrency: 2 });
      const signalled: string[] = [];
      worker(lead, async (job, ctx) => {
        const handles = await Promise.all([1, 2, 3].map((n) => ctx.dispatch(slow.id, { objective: `part ${n}` })));
        await Promise.all(handles.map((h) => h.wait()));
        return 'never';
      }, { leaseSeconds: 3 });
      worker(slow, (job, ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => {
          signalled.push(job.id);
          reject(ctx.signal.reason);
        })),
      { leaseSeconds: 3 });
      const hook = await receiver();
      const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'tree' }, observers: [{ type: 'webhook', url: hook.url, events: ['cancelled'] }] });
      const running = await eventually(async () => {
        const job = await getJob(server, id);
        const states = job.subjobs.map((s: any) => s.status).sort();
        return states.join() === 'queued,running,running' ? job : null;
      });
      const queuedChild = running.subjobs.find((s: any) => s.status === 'queued').id;
      const cancelledAt = Date.now();
      const answer = await client.cancelJob(id);
      expect(answer.status).toBe('running');
      expect(answer.cancel_requested_at).not.toBeNull();
      expect((await getJob(server, queuedChild)).status).toBe('cancelled');
      const tree = await eventually(async () => {
        const job = await getJob(server, id);
        return job.status === 'cancelled' && job.subjobs.every((s: any) => s.status === 'cancelled') ? job : null;
      });
      // Workers confirm on their next heartbeat: well within one lease (3 s).
      expect(Date.now() - cancelledAt).toBeLessThan(3000);
      expect(tree.subjobs.map((s: any) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      expect(signalled.sort()).toEqual(running.subjobs.filter((s: any) => s.status === 'running').map((s: any) => s.id).sort());
      for (const s of running.subjobs) expect((await getJob(server, s.id)).error.code).toBe('parent_cancelled');
      expect((await getJob(server, id)).error.code).toBe('cancelled');
      await eventually(() => hook.received.length === 4);
      expect(new Set(hook.received.map((r) => r.json.data.job.id))).toEqual(new Set([id, ...running.subjobs.map((s: any) => s.id)]));
    });

    it('fails a child with parent_finished when its parent ends first, unless it was dispatched to continue', async () => {
      const agent = await createAgent(server);
      const root = await dispatch(server, agent.id);
      const [parent] = await claim(server, agent);
      const sub = (body: Record<string, unknown>) =>
        server.api('POST', `/v1/jobs/${root}/subjobs`, { lease_token: parent.lease.token, agent_id: agent.id, brief: { objective: 'c' }, ...body }, { token: agent.token });
      const runningChild = (await sub({})).body.id;
      const [running] = await claim(server, agent);
      expect(running.job.id).toBe(runningChild);
      const queuedChild = (await sub({})).body.id;
      const keeps = (await sub({ on_parent_end: 'continue' })).body.id;
      await server.api('POST', `/v1/jobs/${root}/complete`, { lease_token: parent.lease.token, result: 'done early' }, { token: agent.token });
      expect((await getJob(server, queuedChild))).toMatchObject({ status: 'cancelled', error: { code: 'parent_finished' } });
      expect((await getJob(server, runningChild))).toMatchObject({ status: 'running' });
      expect((await getJob(server, runningChild)).cancel_requested_at).not.toBeNull();
      expect((await getJob(server, keeps)).status).toBe('queued');
      const beat = await server.api('POST', `/v1/jobs/${runningChild}/heartbeat`, { lease_token: running.lease.token }, { token: agent.token });
      expect(beat.body.cancel_requested).toBe(true);
    });

    it('fails a job past max_duration_seconds with timeout within a second of the deadline, cancels its children and refuses the stale complete', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'hang', constraints: { max_duration_seconds: 2 } } });
      const [item] = await claim(server, agent);
      const child = await server.api('POST', `/v1/jobs/${id}/subjobs`, { lease_token: item.lease.token, agent_id: agent.id, brief: { objective: 'child', constraints: { max_duration_seconds: 60 } } }, { token: agent.token });
      expect((await getJob(server, child.body.id)).deadline_at).toBe((await getJob(server, id)).deadline_at);
      const failed = await eventually(async () => {
        const job = await getJob(server, id);
        return job.status === 'failed' ? job : null;
      }, 5000, 25);
      expect(failed.error.code).toBe('timeout');
      const late = Date.parse(failed.completed_at) - Date.parse(failed.deadline_at);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
      expect(Date.parse(failed.deadline_at) - Date.parse(failed.started_at)).toBe(2000);
      expect(await getJob(server, child.body.id)).toMatchObject({ status: 'cancelled', error: { code: 'parent_finished' } });
      const stale = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: 'late' }, { token: agent.token });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('lease_lost');
    });

    it('fails a job whose token report crosses max_tokens, and gives a child no more than its parent has left', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'budget', constraints: { max_tokens: 100 } } });
      const [item] = await claim(server, agent);
      const as = { token: agent.token };
      await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: item.lease.token, tokens_used: 30 }, as);
      const child = await server.api('POST', `/v1/jobs/${id}/subjobs`, { lease_token: item.lease.token, agent_id: agent.id, brief: { objective: 'greedy', constraints: { max_tokens: 500 } } }, as);
      expect((await getJob(server, child.body.id)).brief.constraints.max_tokens).toBe(70);
      const [c] = await claim(server, agent);
      const over = await server.api('POST', `/v1/jobs/${c.job.id}/heartbeat`, { lease_token: c.lease.token, tokens_used: 80 }, as);
      expect(over.status).toBe(200);
      expect(await getJob(server, c.job.id)).toMatchObject({ status: 'failed', error: { code: 'token_budget_exceeded' }, tokens_used: 80 });
      // The child's 80 tokens count in the parent's subtree: 110 > 100, so the parent failed too.
      expect(await getJob(server, id)).toMatchObject({ status: 'failed', error: { code: 'token_budget_exceeded' }, tokens_used: 110, tokens_used_self: 30 });
    });

    it('stops a self-dispatching agent at max_depth with 409 depth_limit_reached', async () => {
      const agent = await createAgent(server, { name: 'recursive' });
      worker(agent, async (job, ctx) => {
        try {
          const child = await ctx.dispatch(agent.id, { objective: 'again' });
          return { depth: (await child.result<{ depth: number }>()).depth };
        } catch (error) {
          if (error instanceof AgentJobsError && error.code === 'depth_limit_reached') return { depth: job.depth };
          throw error;
        }
      });
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'go deep', constraints: { max_depth: 3 } } });
      const root = await client.waitForJob(id);
      expect(root).toMatchObject({ status: 'completed', result: { depth: 3 } });
      expect((await client.listJobs({ root_job_id: id, limit: 100 })).data).toHaveLength(4);
    });

    it('stops a fan-out at max_subjobs with 409 subjob_limit_reached and never duplicates children dispatched with the same Idempotency-Key', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'fan', constraints: { max_subjobs: 3 } } });
      const [first] = await claim(server, agent);
      const sub = (lease: string, key: string) =>
        server.api('POST', `/v1/jobs/${id}/subjobs`, { lease_token: lease, agent_id: agent.id, brief: { objective: key } }, { token: agent.token, headers: { 'idempotency-key': key } });
      const a = await sub(first.lease.token, 'child-a');
      const again = await sub(first.lease.token, 'child-a');
      expect(again.body.id).toBe(a.body.id);
      // The parent's worker vanishes; its second attempt re-dispatches with the same keys and gets the same children.
      await expireLease(server, id);
      const [second] = await eventually(async () => {
        const items = await claim(server, agent, { max_jobs: 1 });
        return items.length && items[0].job.id === id ? items : null;
      });
      expect(second.job.attempt).toBe(2);
      expect((await sub(second.lease.token, 'child-a')).body.id).toBe(a.body.id);
      expect((await sub(second.lease.token, 'child-b')).status).toBe(202);
      expect((await sub(second.lease.token, 'child-c')).status).toBe(202);
      const fourth = await sub(second.lease.token, 'child-d');
      expect(fourth.status).toBe(409);
      expect(fourth.body.error.code).toBe('subjob_limit_reached');
      expect((await getJob(server, id)).subjobs).toHaveLength(3);
    });

    it('refuses a tool call outside allowed_tools with 403 tool_not_allowed and logs every call as an event', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { brief: { objective: 'tools', constraints: { allowed_tools: ['web_search'], denied_tools: ['shell'] } } });
      const [item] = await claim(server, agent);
      const call = (tool: string) => server.api('POST', `/v1/jobs/${id}/tool-calls`, { lease_token: item.lease.token, tool, input: { q: 1 } }, { token: agent.token });
      expect((await call('web_search')).status).toBe(200);
      const refused = await call('send_email');
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('tool_not_allowed');
      expect((await call('shell')).status).toBe(403);
      const events = (await server.api('GET', `/v1/jobs/${id}/events`)).body.data.filter((e: any) => e.type === 'job.tool_call');
      expect(events.map((e: any) => [e.data.tool, e.data.allowed])).toEqual([['web_search', true], ['send_email', false], ['shell', false]]);
    });

    it("hands a child's failure to its parent's handler as a typed error", async () => {
      const parent = await createAgent(server, { name: 'parent' });
      const failing = await createAgent(server, { name: 'failing' });
      let caught: unknown;
      worker(parent, async (job, ctx) => {
        const child = await ctx.dispatch(failing.id, { objective: 'break' });
        try {
          await child.result();
        } catch (error) {
          caught = error;
        }
        return 'handled';
      });
      worker(failing, async () => {
        throw new Error('the child broke');
      });
      const { id } = await client.dispatch({ agent_id: parent.id, brief: { objective: 'p' } });
      expect((await client.waitForJob(id)).status).toBe('completed');
      expect(caught).toBeInstanceOf(SubjobFailedError);
      expect((caught as SubjobFailedError).job).toMatchObject({ status: 'failed', error: { message: 'the child broke' } });
      expect(await eventTypes(server, id)).toContain('job.subjob_dispatched');
    });
  });
}

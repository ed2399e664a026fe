import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimResponse, HeartbeatResponse, InputRequest, InputRequestList, Job, JobOutput, MessageList } from '@agentjobs/sdk/protocol';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventTypes, eventually, getJob } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { createKeyForTenant } from '../src/jobs/tenants.js';
import { expectShape } from './support/shapes.js';

type Agent = { id: string; token: string };
const as = (token: string) => ({ token });

for (const engine of ENGINES) {
  describe(`interactive jobs over HTTP (${engine})`, () => {
    let server: TestServer;
    let hook: Receiver;
    beforeAll(async () => {
      server = await startTestServer(engine, { maxArtifactBytes: 1024 * 1024, maxArtifactsPerJob: 3 });
      hook = await new Receiver().start();
    });
    afterAll(async () => {
      await hook.stop();
      await server.stop();
    });

    /** Claims the agent's next job; fails the test when there is none. */
    async function claimOne(agent: Agent) {
      const res = await server.api('POST', `/v1/agents/${agent.id}/claim`, { max_jobs: 1 }, as(agent.token));
      expect(res.status).toBe(200);
      expectShape(ClaimResponse, res.body);
      expect(res.body.jobs).toHaveLength(1);
      return res.body.jobs[0] as { job: any; lease: { token: string }; inputs: any[]; messages: any[] };
    }

    async function ask(agent: Agent, jobId: string, leaseToken: string, body: Record<string, unknown> = {}) {
      return server.api('POST', `/v1/jobs/${jobId}/input-requests`, { lease_token: leaseToken, prompt: 'Which colour?', ...body }, as(agent.token));
    }

    it('parks a job that asks: running, waiting_for set, its lease spent and its slot free; the answer resumes it with the same attempt', async () => {
      const agent = await createAgent(server, { max_concurrency: 1 });
      const id = await dispatch(server, agent.id);
      const first = await claimOne(agent);
      const schema = { type: 'object', properties: { colour: { enum: ['red', 'blue'] } }, required: ['colour'] };
      const asked = await ask(agent, id, first.lease.token, { input_schema: schema, timeout_seconds: 3600 });
      expect(asked.status).toBe(201);
      expectShape(InputRequest, asked.body.request);
      const request = asked.body.request;
      expect(request).toMatchObject({ job_id: id, kind: 'input', prompt: 'Which colour?', input_schema: schema, status: 'pending', answered_at: null, input: null, tool: null });
      expect(Date.parse(request.expires_at) - Date.parse(request.requested_at)).toBe(3_600_000);

      const waiting = await getJob(server, id);
      expectShape(Job, waiting);
      expect(waiting).toMatchObject({ status: 'running', attempt: 1, waiting_for: request });
      // No worker holds it: the lease is spent and the agent's one slot is free for another job.
      const beat = await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: first.lease.token }, as(agent.token));
      expect(beat.status).toBe(409);
      expect(beat.body.error).toMatchObject({ code: 'lease_lost' });
      expect(beat.body.error.message).toContain('waits for a person');
      expect((await server.api('GET', `/v1/agents/${agent.id}`)).body.counts).toMatchObject({ running: 0, waiting: 1, queued: 0 });
      const other = await dispatch(server, agent.id);
      expect((await claimOne(agent)).job.id).toBe(other);
      expect((await server.api('GET', '/v1/jobs?waiting=true&limit=100')).body.data.map((j: any) => j.id)).toContain(id);

      // A wrong answer is refused naming the path, and changes nothing.
      const wrong = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: { colour: 'green' } });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error.code).toBe('input_schema_mismatch');
      expect(wrong.body.error.message).toContain('input.colour');
      expect(wrong.body.error.details[0]).toMatchObject({ path: '/colour', keyword: 'enum' });
      expect((await getJob(server, id)).waiting_for).toMatchObject({ status: 'pending' });

      const answered = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: { colour: 'blue' } });
      expect(answered.status).toBe(200);
      expectShape(Job, answered.body);
      expect(answered.body).toMatchObject({ status: 'running', attempt: 1, waiting_for: null });
      // The agent's slot is taken by the other job: the answered one waits for it.
      expect((await server.api('POST', `/v1/agents/${agent.id}/claim`, {}, as(agent.token))).body.jobs).toEqual([]);
      await server.api('POST', `/v1/jobs/${other}/complete`, { lease_token: (await getLease(other)) ?? '', result: 1 }, as(agent.token));

      const resumed = await claimOne(agent);
      expect(resumed.job).toMatchObject({ id, status: 'running', attempt: 1, waiting_for: null });
      expect(resumed.inputs).toEqual([{ ...request, status: 'answered', input: { colour: 'blue' }, answered_at: expect.any(String) }]);
      const done = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: resumed.lease.token, result: { colour: 'blue' } }, as(agent.token));
      expect(done.status).toBe(200);
      expect(await eventTypes(server, id)).toEqual(['job.queued', 'job.running', 'job.input_required', 'job.input_received', 'job.resumed', 'job.completed']);
      const list = await server.api('GET', `/v1/jobs/${id}/input-requests`);
      expectShape(InputRequestList, list.body);
      expect(list.body.data).toMatchObject([{ id: request.id, status: 'answered', input: { colour: 'blue' } }]);
    });

    /** The lease token of a job, as its claim handed it (read from the store: the tests own it). */
    async function getLease(jobId: string): Promise<string | undefined> {
      return server.store.read(async (tx) => (await tx.get<{ lease_token: string }>('SELECT lease_token FROM jobs WHERE id = ?', [jobId]))?.lease_token);
    }

    it('answers the same request again to a worker that repeats it with its spent lease, and lease_lost to anything else', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const { lease } = await claimOne(agent);
      const first = await ask(agent, id, lease.token, { kind: 'approval', tool: 'deploy', tool_input: { env: 'prod' } });
      expect(first.status).toBe(201);
      expect(first.body.request.input_schema).toMatchObject({ required: ['approved'] });
      const again = await ask(agent, id, lease.token, { kind: 'approval', tool: 'deploy', tool_input: { env: 'prod' } });
      expect(again.status).toBe(201);
      expect(again.body.request.id).toBe(first.body.request.id);
      const other = await ask(agent, id, lease.token, { prompt: 'Something else?' });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('lease_lost');
      expect((await server.api('GET', `/v1/jobs/${id}/input-requests`)).body.data).toHaveLength(1);
    });

    it('cancels a waiting job at once (no worker must confirm) and its request becomes cancelled', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const { lease } = await claimOne(agent);
      const request = (await ask(agent, id, lease.token)).body.request;
      const cancelled = await server.api('POST', `/v1/jobs/${id}/cancel`);
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', waiting_for: null, error: { code: 'cancelled' } });
      expect((await server.api('GET', `/v1/jobs/${id}/input-requests`)).body.data[0]).toMatchObject({ id: request.id, status: 'cancelled' });
      const late = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'x' });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('no_pending_input');
      expect((await server.api('GET', `/v1/agents/${agent.id}`)).body.counts).toMatchObject({ running: 0, waiting: 0 });
    });

    it('fails a job whose question expires with input_timeout; the request is expired and a late answer is 409', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const { lease } = await claimOne(agent);
      const request = (await ask(agent, id, lease.token, { timeout_seconds: 1 })).body.request;
      const failed = await eventually(async () => {
        const job = await getJob(server, id);
        return job.status === 'failed' && job;
      }, 5000);
      expect(failed.error.code).toBe('input_timeout');
      expect(failed.waiting_for).toBeNull();
      expect((await server.api('GET', `/v1/jobs/${id}/input-requests?status=expired`)).body.data).toMatchObject([{ id: request.id, status: 'expired' }]);
      const late = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'x' });
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({ code: 'no_pending_input' });
      expect(late.body.error.message).toContain('expired');
    });

    it('refuses bad answers clearly and changes nothing: no pending request, twice, across tenants, over the limits', async () => {
      const agent = await createAgent(server);
      const idle = await dispatch(server, (await createAgent(server)).id);
      const none = await server.api('POST', `/v1/jobs/${idle}/input`, { request_id: 'inp_01jabcdefghjkmnpqrstvwxyz0', input: 1 });
      expect(none.status).toBe(409);
      expect(none.body.error.message).toContain('not waiting for input');

      const id = await dispatch(server, agent.id);
      const { lease } = await claimOne(agent);
      const request = (await ask(agent, id, lease.token)).body.request;
      // Another tenant's key: 404, as for a job that does not exist.
      const foreign = (await createKeyForTenant(server.store, `other-${randomBytes(4).toString('hex')}`, null)).key;
      const cross = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 1 }, { token: foreign });
      expect(cross.status).toBe(404);
      expect(cross.body.error.code).toBe('job_not_found');
      expect((await server.api('GET', `/v1/jobs/${id}/input-requests`, undefined, { token: foreign })).status).toBe(404);
      expect((await server.api('POST', `/v1/jobs/${id}/messages`, { content: 'hi' }, { token: foreign })).status).toBe(404);
      expect((await server.api('GET', `/v1/jobs/${id}/output`, undefined, { token: foreign })).status).toBe(404);

      // An input over the answer limit (1 MiB) but within the body limit: 413.
      const big = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'x'.repeat(1024 * 1024 + 1) });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('payload_too_large');
      // A body over the body limit (2 MiB): 413 before anything is read.
      const huge = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'x'.repeat(3 * 1024 * 1024) });
      expect(huge.status).toBe(413);
      expect((await getJob(server, id)).waiting_for).toMatchObject({ id: request.id, status: 'pending' });

      expect((await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'yes' })).status).toBe(200);
      // The same answer again: 200; another answer: 409.
      expect((await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'yes' })).status).toBe(200);
      const changed = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: 'no' });
      expect(changed.status).toBe(409);
      expect(changed.body.error).toMatchObject({ code: 'no_pending_input' });
      expect(changed.body.error.message).toContain('already answered');
      expect((await server.api('GET', `/v1/jobs/${id}/input-requests`)).body.data[0]).toMatchObject({ status: 'answered', input: 'yes' });

      // Bad requests from the worker: a schema that is not one, and fields of the other kind.
      const next = await dispatch(server, agent.id);
      const second = await claimOne(agent);
      expect(second.job.id).toBe(id);
      const held = await claimOne(agent);
      expect(held.job.id).toBe(next);
      const badSchema = await ask(agent, next, held.lease.token, { input_schema: { type: 'banana' } });
      expect(badSchema.status).toBe(400);
      expect(badSchema.body.error.code).toBe('invalid_input_schema');
      expect(badSchema.body.error.message).toContain('input_schema');
      const mixed = await ask(agent, next, held.lease.token, { kind: 'approval', input_schema: {} });
      expect(mixed.status).toBe(400);
      expect(mixed.body.error.message).toContain('input_schema is fixed');
      expect((await getJob(server, next)).waiting_for).toBeNull();
    });

    it('tells observers of the job and of its ancestors job.input_required, with waiting_for set, when they ask for it', async () => {
      const agent = await createAgent(server);
      const root = await dispatch(server, agent.id, {
        observers: [
          { type: 'webhook', url: `${hook.url}?root`, events: ['input_required', 'completed'] },
          { type: 'webhook', url: `${hook.url}?plain` },
        ],
      });
      const rootLease = await claimOne(agent);
      const child = await server.api('POST', `/v1/jobs/${root}/subjobs`, { lease_token: rootLease.lease.token, agent_id: agent.id, brief: { objective: 'ask' } }, as(agent.token));
      const leaf = await claimOne(agent);
      expect(leaf.job.id).toBe(child.body.id);
      const request = (await ask(agent, leaf.job.id, leaf.lease.token)).body.request;
      const delivered = await eventually(() => hook.received.find((r) => r.json?.type === 'job.input_required' && r.json.data.job.id === leaf.job.id));
      expect(delivered.json.data).toMatchObject({ observer_job_id: root, job: { id: leaf.job.id, status: 'running', waiting_for: { id: request.id, status: 'pending' } } });
      expect(delivered.json.data.sequence).toBe(2);
      // Only the observer that asked for input_required hears it: the other has the default four events.
      await new Promise((r) => setTimeout(r, 300));
      expect(hook.received.filter((r) => r.json?.data?.job?.id === leaf.job.id && r.json.type === 'job.input_required')).toHaveLength(1);
      // The tree inbox shows the leaf's question from the root.
      const inbox = await server.api('GET', `/v1/jobs/${root}/input-requests?include=subjobs&status=pending`);
      expect(inbox.body.data.map((r: any) => r.id)).toEqual([request.id]);
      expect((await server.api('GET', `/v1/jobs/${root}/input-requests`)).body.data).toEqual([]);
    });

    it('gates a tool in approval_required_tools: 202 and a wait; approved → 200, denied → 403 tool_not_approved and an event', async () => {
      const agent = await createAgent(server);
      const constraints = { approval_required_tools: ['deploy'] };
      for (const approved of [true, false]) {
        const id = await dispatch(server, agent.id, { brief: { objective: 'ship it', constraints } });
        const first = await claimOne(agent);
        const free = await server.api('POST', `/v1/jobs/${id}/tool-calls`, { lease_token: first.lease.token, tool: 'search' }, as(agent.token));
        expect(free.status).toBe(200);
        const gated = await server.api('POST', `/v1/jobs/${id}/tool-calls`, { lease_token: first.lease.token, tool: 'deploy', input: { env: 'prod' } }, as(agent.token));
        expect(gated.status).toBe(202);
        expect(gated.body).toMatchObject({ status: 'pending_approval', request: { kind: 'approval', tool: 'deploy', tool_input: { env: 'prod' }, status: 'pending' } });
        expectShape(InputRequest, gated.body.request);
        const requestId = gated.body.request.id;
        expect((await getJob(server, id)).waiting_for.id).toBe(requestId);
        const answer = await server.api('POST', `/v1/jobs/${id}/input`, { request_id: requestId, input: { approved, note: approved ? 'go' : 'not on a Friday' } });
        expect(answer.status).toBe(200);
        const resumed = await claimOne(agent);
        expect(resumed.inputs[0]).toMatchObject({ id: requestId, input: { approved } });
        const again = await server.api('POST', `/v1/jobs/${id}/tool-calls`, { lease_token: resumed.lease.token, tool: 'deploy', input: { env: 'prod' }, approval_request_id: requestId }, as(agent.token));
        if (approved) {
          expect(again.status).toBe(200);
          expect(again.body.allowed).toBe(true);
        } else {
          expect(again.status).toBe(403);
          expect(again.body.error.code).toBe('tool_not_approved');
          expect(again.body.error.message).toContain('not on a Friday');
        }
        const events = (await server.api('GET', `/v1/jobs/${id}/events`)).body.data.filter((e: any) => e.type === 'job.tool_call');
        expect(events.map((e: any) => e.data)).toMatchObject([
          { tool: 'search', allowed: true },
          { tool: 'deploy', allowed: false, approval: 'pending' },
          { tool: 'deploy', allowed: approved, approval: approved ? 'approved' : 'denied', approval_request_id: requestId },
        ]);
        // Pointing at a request that is not an approval of this tool is a clear 400.
        const mismatch = await server.api('POST', `/v1/jobs/${id}/tool-calls`, { lease_token: resumed.lease.token, tool: 'other', approval_request_id: requestId }, as(agent.token));
        expect(mismatch.status).toBe(400);
      }
    });

    it('hands messages to workers: all of them in a claim, the new ones in the next heartbeat, once', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const early = await server.api('POST', `/v1/jobs/${id}/messages`, { content: 'before the start' }, { headers: { 'idempotency-key': `m-${id}` } });
      expect(early.status).toBe(201);
      expect(early.body).toMatchObject({ id: expect.stringMatching(/^jmg_/), job_id: id, content: 'before the start' });
      const replay = await server.api('POST', `/v1/jobs/${id}/messages`, { content: 'before the start' }, { headers: { 'idempotency-key': `m-${id}` } });
      expect(replay.body.id).toBe(early.body.id);
      const claimed = await claimOne(agent);
      expect(claimed.messages).toEqual([early.body]);
      const beat = async () => {
        const res = await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: claimed.lease.token }, as(agent.token));
        expectShape(HeartbeatResponse, res.body);
        return res.body.messages;
      };
      expect(await beat()).toEqual([]);
      const steer = await server.api('POST', `/v1/jobs/${id}/messages`, { content: { focus: 'pricing' } });
      expect(await beat()).toEqual([steer.body]);
      expect(await beat()).toEqual([]);
      const list = await server.api('GET', `/v1/jobs/${id}/messages`);
      expectShape(MessageList, list.body);
      expect(list.body.data.map((m: any) => m.id)).toEqual([early.body.id, steer.body.id]);
      expect((await server.api('GET', `/v1/jobs/${id}/messages?limit=1`)).body.next_cursor).not.toBeNull();
      await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: claimed.lease.token, result: 1 }, as(agent.token));
      const late = await server.api('POST', `/v1/jobs/${id}/messages`, { content: 'too late' });
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe('job_already_finished');
      expect((await eventTypes(server, id)).filter((t) => t === 'job.message')).toHaveLength(2);
    });

    it('streams output deltas as job.output events in order, resumes after Last-Event-ID, and never sends them to webhooks', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id, { observers: [{ type: 'webhook', url: `${hook.url}?output` }] });
      const { lease } = await claimOne(agent);
      const deltas = Array.from({ length: 30 }, (_, i) => `part ${i}; `);
      const stream = await fetch(new URL(`/v1/jobs/${id}/events`, server.url), { headers: { accept: 'text/event-stream', authorization: `Bearer ${server.apiKey}` } });
      const reader = stream.body!.getReader();
      const seen: Array<{ id: string; delta: string }> = [];
      let buffer = '';
      const decoder = new TextDecoder();
      const readUntil = async (n: number) => {
        while (seen.length < n) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const type = /^event: (.+)$/m.exec(frame)?.[1];
            const data = /^data: (.+)$/m.exec(frame)?.[1];
            if (type === 'job.output') seen.push({ id: /^id: (.+)$/m.exec(frame)![1], delta: JSON.parse(data!).data.delta });
          }
        }
      };
      for (const [i, delta] of deltas.entries()) {
        const res = await server.api('POST', `/v1/jobs/${id}/output`, { lease_token: lease.token, delta, ...(i === 29 ? { stream: 'log' } : {}) }, as(agent.token));
        expect(res.status).toBe(200);
        if (i === 9) await readUntil(10);
      }
      await readUntil(10);
      // The client drops the connection after ten deltas and comes back with the last id it saw.
      await reader.cancel();
      const resumed = await fetch(new URL(`/v1/jobs/${id}/events`, server.url), {
        headers: { accept: 'text/event-stream', authorization: `Bearer ${server.apiKey}`, 'last-event-id': seen[9].id },
      });
      const rest = resumed.body!.getReader();
      let text = '';
      while ((text.match(/event: job\.output/g) ?? []).length < 20) {
        const { value, done } = await rest.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await rest.cancel();
      const after = [...text.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1])).filter((e) => e.type === 'job.output').map((e) => e.data.delta);
      expect([...seen.slice(0, 10).map((s) => s.delta), ...after]).toEqual(deltas);
      const output = await server.api('GET', `/v1/jobs/${id}/output`);
      expectShape(JobOutput, output.body);
      expect(output.body.streams).toEqual({ default: deltas.slice(0, 29).join(''), log: deltas[29] });
      await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: lease.token, result: 1 }, as(agent.token));
      await eventually(() => hook.received.some((r) => r.json?.data?.job?.id === id && r.json.type === 'job.completed'));
      expect(hook.received.filter((r) => r.json?.data?.job?.id === id).map((r) => r.json.type).sort()).toEqual(['job.completed', 'job.running']);
    });

    it('round-trips an artifact byte for byte with its media type, lists it on the job, and refuses one over its limits', async () => {
      const agent = await createAgent(server);
      const id = await dispatch(server, agent.id);
      const { lease } = await claimOne(agent);
      const bytes = randomBytes(300_000);
      const created = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'chart.png', media_type: 'image/png', base64: bytes.toString('base64') }, as(agent.token));
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: expect.stringMatching(/^art_/), name: 'chart.png', media_type: 'image/png', size: 300_000 });
      const text = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'notes.md', media_type: 'text/markdown; charset=utf-8', text: '# Grüße\n' }, as(agent.token));
      const data = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'table.json', media_type: 'application/json', data: { rows: [1, 2] } }, as(agent.token));
      expect([text.status, data.status]).toEqual([201, 201]);
      const content = await fetch(new URL(`/v1/jobs/${id}/artifacts/${created.body.id}`, server.url), { headers: { authorization: `Bearer ${server.apiKey}` } });
      expect(content.status).toBe(200);
      expect(content.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
      const md = await fetch(new URL(`/v1/jobs/${id}/artifacts/${text.body.id}`, server.url), { headers: { authorization: `Bearer ${server.apiKey}` } });
      expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(await md.text()).toBe('# Grüße\n');
      expect((await getJob(server, id)).artifacts).toEqual([created.body, text.body, data.body]);
      expect((await server.api('GET', `/v1/jobs/${id}/artifacts`)).body.data).toHaveLength(3);

      // Over the size limit (1 MiB here): 413; past the count (3 here): 409; both leave the job as it was.
      const large = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'big', media_type: 'application/octet-stream', base64: randomBytes(1024 * 1024 + 1).toString('base64') }, as(agent.token));
      expect(large.status).toBe(413);
      expect(large.body.error.message).toContain('1048576');
      const more = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'fourth', media_type: 'text/plain', text: 'x' }, as(agent.token));
      expect(more.status).toBe(409);
      expect(more.body.error.code).toBe('artifact_limit_reached');
      const twoKinds = await server.api('POST', `/v1/jobs/${id}/artifacts`, { lease_token: lease.token, name: 'x', media_type: 'text/plain', text: 'a', base64: 'YQ==' }, as(agent.token));
      expect(twoKinds.status).toBe(400);
      expect((await getJob(server, id)).artifacts).toHaveLength(3);
      expect((await server.api('GET', `/v1/jobs/${id}/artifacts/art_01jabcdefghjkmnpqrstvwxyz0`)).status).toBe(404);
    });
  });
}

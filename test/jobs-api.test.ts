import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, seedDispatch } from './support/fixtures.js';

const ULID_ID = (prefix: string) => new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`);

for (const engine of ENGINES) {
  describe(`the Jobs API of the seed (${engine})`, () => {
    let server: TestServer;
    let agent: { id: string; token: string };
    beforeAll(async () => {
      server = await startTestServer(engine);
      agent = await createAgent(server);
    });
    afterAll(() => server.stop());

    it('answers a dispatch with 202, exactly the four seed fields and a Location header', async () => {
      const res = await server.api('POST', '/v1/jobs', seedDispatch(agent.id));
      expect(res.status).toBe(202);
      expect(Object.keys(res.body).sort()).toEqual(['agent_id', 'created_at', 'id', 'status']);
      expect(res.body.id).toMatch(ULID_ID('job'));
      expect(res.body.agent_id).toBe(agent.id);
      expect(agent.id).toMatch(ULID_ID('agt'));
      expect(res.body.status).toBe('queued');
      expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
    });

    it('shows every seed field on GET, with result and completed_at null and no subjobs until the end', async () => {
      const id = await dispatch(server, agent.id);
      const res = await server.api('GET', `/v1/jobs/${id}`);
      expect(res.status).toBe(200);
      for (const field of ['id', 'agent_id', 'status', 'result', 'subjobs', 'tokens_used', 'created_at', 'completed_at']) {
        expect(res.body).toHaveProperty(field);
      }
      expect(res.body).toMatchObject({ id, agent_id: agent.id, status: 'queued', result: null, subjobs: [], tokens_used: 0, completed_at: null });
      expect(res.body).toMatchObject({ parent_job_id: null, root_job_id: id, depth: 0, started_at: null, error: null, progress: null, attempt: 1, cancel_requested_at: null });
    });

    it('runs a job end to end through the worker protocol and shows the result', async () => {
      const agent = await createAgent(server, { name: 'adder' });
      const id = await dispatch(server, agent.id, { brief: { objective: 'add', output_schema: { type: 'object', required: ['sum'] } } });
      const [item] = await claim(server, agent);
      expect(item.job.id).toBe(id);
      expect(item.job.status).toBe('running');
      expect(item.lease.token).toBeTruthy();
      const beat = await server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: item.lease.token, progress: { percent: 50, message: 'half' }, tokens_used: 120 }, { token: agent.token });
      expect(beat.status).toBe(200);
      expect(beat.body.cancel_requested).toBe(false);
      const done = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: { sum: 3 }, tokens_used: 150 }, { token: agent.token });
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ status: 'completed', result: { sum: 3 }, tokens_used: 150 });
      const again = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: { sum: 3 }, tokens_used: 150 }, { token: agent.token });
      expect(again.status).toBe(200);
      const got = await server.api('GET', `/v1/jobs/${id}`);
      expect(got.body.completed_at).not.toBeNull();
      expect(got.body.progress).toMatchObject({ percent: 50, message: 'half' });
    });

    it('refuses a result that does not match output_schema with the validator errors, and the job stays running', async () => {
      const agent = await createAgent(server, { name: 'strict' });
      const id = await dispatch(server, agent.id, { brief: { objective: 'x', output_schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } } });
      const [item] = await claim(server, agent);
      const bad = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: { n: 'seven' } }, { token: agent.token });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe('output_schema_mismatch');
      expect(bad.body.error.details[0]).toMatchObject({ path: '/n', keyword: 'type' });
      expect((await server.api('GET', `/v1/jobs/${id}`)).body.status).toBe('running');
      const good = await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: { n: 7 } }, { token: agent.token });
      expect(good.status).toBe(200);
    });

    it('refuses an invalid output_schema at dispatch with 400 invalid_output_schema', async () => {
      const res = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x', output_schema: { type: 'nonsense' } } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_output_schema');
      expect(res.body.error.message).toContain('brief.output_schema');
    });

    it('refuses output_schema keywords and formats JSON Schema does not define, and accepts its annotations', async () => {
      const warned = vi.spyOn(console, 'warn');
      const logged = vi.spyOn(console, 'log');
      try {
        const send = (output_schema: object) => server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x', output_schema } });
        // A typo would otherwise be ignored, and the schema would accept any result.
        const typo = await send({ type: 'object', requird: ['answer'] });
        expect(typo.status).toBe(400);
        expect(typo.body.error).toMatchObject({ code: 'invalid_output_schema' });
        expect(typo.body.error.message).toContain('brief.output_schema uses "requird", which is not a JSON Schema keyword (draft 2020-12): fix its spelling or remove it');
        const format = await send({ type: 'object', properties: { when: { type: 'string', format: 'unknown-format' } } });
        expect(format.status).toBe(400);
        expect(format.body.error.message).toContain('brief.output_schema.properties.when.format is "unknown-format", a format this server does not check; use one of date,');
        const annotated = await send({
          type: 'object',
          title: 'Answer',
          description: 'What the agent returns',
          $comment: 'kept',
          examples: [{ answer: '42' }],
          properties: { answer: { type: 'string', default: '', deprecated: false, format: 'email' } },
        });
        expect(annotated.status).toBe(202);
        // Nothing reaches the console (the server's log is JSON lines; Ajv's warnings are off).
        expect(warned).not.toHaveBeenCalled();
        expect(logged).not.toHaveBeenCalled();
      } finally {
        warned.mockRestore();
        logged.mockRestore();
      }
    });

    it('answers 404 agent_not_found for an unknown agent', async () => {
      const res = await server.api('POST', '/v1/jobs', { agent_id: 'agt_01hxyz0000000000000000000a', brief: { objective: 'x' } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('agent_not_found');
    });

    it('lists jobs newest first with filters and cursor pages', async () => {
      const other = await createAgent(server, { name: 'lister' });
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await dispatch(server, other.id, { metadata: { batch: 'b1', n: String(i) } }));
      const first = await server.api('GET', `/v1/jobs?agent_id=${other.id}&limit=2`);
      expect(first.body.data.map((j: any) => j.id)).toEqual([ids[4], ids[3]]);
      expect(first.body.next_cursor).toBeTruthy();
      const second = await server.api('GET', `/v1/jobs?agent_id=${other.id}&limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((j: any) => j.id)).toEqual([ids[2], ids[1]]);
      const third = await server.api('GET', `/v1/jobs?agent_id=${other.id}&limit=2&cursor=${second.body.next_cursor}`);
      expect(third.body.data.map((j: any) => j.id)).toEqual([ids[0]]);
      expect(third.body.next_cursor).toBeNull();
      const byMeta = await server.api('GET', `/v1/jobs?metadata[n]=3`);
      expect(byMeta.body.data.map((j: any) => j.id)).toEqual([ids[3]]);
      const byStatus = await server.api('GET', `/v1/jobs?agent_id=${other.id}&status=completed`);
      expect(byStatus.body.data).toEqual([]);
    });

    it('filters metadata values that are not strings by their JSON text, alike on every engine', async () => {
      const typed = await createAgent(server, { name: 'typed-metadata' });
      const id = await dispatch(server, typed.id, { metadata: { count: 1, ratio: 0.5, flag: true, tag: 'x y', none: null } });
      const find = async (query: string) => (await server.api('GET', `/v1/jobs?agent_id=${typed.id}&${query}`)).body.data.map((j: any) => j.id);
      for (const query of ['metadata[count]=1', 'metadata[ratio]=0.5', 'metadata[flag]=true', 'metadata[tag]=x%20y']) expect(await find(query), query).toEqual([id]);
      for (const query of ['metadata[count]=2', 'metadata[flag]=1', 'metadata[tag]=%22x%20y%22', 'metadata[none]=null', 'metadata[absent]=x']) expect(await find(query), query).toEqual([]);
    });

    it('filters by metadata keys that hold quotes, backslashes and dots', async () => {
      const odd = await createAgent(server, { name: 'odd-keys' });
      const id = await dispatch(server, odd.id, { metadata: { 'say "hi"': 'a', 'back\\slash': 'b', 'v1.2': 'c' } });
      const find = async (key: string, value: string) =>
        (await server.api('GET', `/v1/jobs?agent_id=${odd.id}&${encodeURIComponent(`metadata[${key}]`)}=${value}`)).body.data.map((j: any) => j.id);
      expect(await find('say "hi"', 'a')).toEqual([id]);
      expect(await find('back\\slash', 'b')).toEqual([id]);
      expect(await find('v1.2', 'c')).toEqual([id]);
      expect(await find('say "hi"', 'b')).toEqual([]);
    });

    it('replays a dispatch with the same Idempotency-Key and refuses the key with another body', async () => {
      const body = { agent_id: agent.id, brief: { objective: 'once' } };
      const first = await server.api('POST', '/v1/jobs', body, { headers: { 'idempotency-key': 'k-1' } });
      const second = await server.api('POST', '/v1/jobs', { brief: { objective: 'once' }, agent_id: agent.id }, { headers: { 'idempotency-key': 'k-1' } });
      expect(second.status).toBe(202);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const other = await server.api('POST', '/v1/jobs', { ...body, brief: { objective: 'twice' } }, { headers: { 'idempotency-key': 'k-1' } });
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('idempotency_key_reused');
    });

    it('hands a newly dispatched job to a worker that is already long-polling, without a polling delay', async () => {
      const waiter = await createAgent(server, { name: 'waiter' });
      const started = Date.now();
      const claiming = claim(server, waiter, { wait_seconds: 20 });
      await new Promise((r) => setTimeout(r, 300));
      const dispatchedAt = Date.now();
      const id = await dispatch(server, waiter.id);
      const [item] = await claiming;
      const latency = Date.now() - dispatchedAt;
      expect(item.job.id).toBe(id);
      expect(Date.now() - started).toBeLessThan(5000);
      // Generous: the benchmark measures the real figure.
      expect(latency).toBeLessThan(500);
    });

    it('respects max_concurrency across claims of all workers', async () => {
      const limited = await createAgent(server, { name: 'limited', max_concurrency: 2 });
      for (let i = 0; i < 4; i++) await dispatch(server, limited.id);
      const a = await claim(server, limited, { max_jobs: 3 });
      const b = await claim(server, limited, { max_jobs: 3 });
      expect(a.length + b.length).toBe(2);
      await server.api('POST', `/v1/jobs/${a[0].job.id}/complete`, { lease_token: a[0].lease.token, result: null }, { token: limited.token });
      const c = await claim(server, limited, { max_jobs: 3 });
      expect(c.length).toBe(1);
      const view = await server.api('GET', `/v1/agents/${limited.id}`);
      expect(view.body.counts).toMatchObject({ queued: 1, running: 2 });
    });

    it('hands jobs out oldest first', async () => {
      const fifo = await createAgent(server, { name: 'fifo' });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await dispatch(server, fifo.id));
      const items = await claim(server, fifo, { max_jobs: 3 });
      expect(items.map((i) => i.job.id)).toEqual(ids);
    });
  });
}

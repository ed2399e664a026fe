import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker } from '@agentjobs/sdk/worker';
import type { ModelRuntimeOptions } from '../src/runtimes/model/options.js';
import { startServer } from '../src/server.js';
import { dropDatabase, ENGINES, engineOptions } from './support/engines.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { createAgent, dispatch, eventually } from './support/fixtures.js';
import { startFakeModel, type FakeModel, type FakeReply, type FakeStep } from './support/fake-model.js';
import { qualifiesForStrict, responseFormatFor } from '../src/runtimes/model/structured-output.js';

/** Short backoffs and timeouts, so that retries and give-ups take milliseconds; the key lives in a test env. */
const MODEL_OPTIONS: ModelRuntimeOptions = {
  env: { TEST_API_KEY: 'sk-test-123' },
  maxRetries: 2,
  retryBaseMs: 100,
  retryMaxMs: 1000,
  requestTimeoutMs: 5000,
  maxCorrections: 2,
  claimWaitSeconds: 5,
};

const TERMINAL = ['completed', 'failed', 'cancelled'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise the test resolves by hand (a reply the fake provider holds back until told). */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

for (const engine of ENGINES) {
  describe(`model agents run by the server (${engine})`, () => {
    let server: TestServer;
    const fakes: FakeModel[] = [];

    beforeAll(async () => {
      server = await startTestServer(engine, { modelRuntime: MODEL_OPTIONS });
    });
    afterAll(async () => {
      await server.stop();
      await Promise.all(fakes.map((fake) => fake.stop()));
    });

    async function fakeModel(script: FakeStep[]): Promise<FakeModel> {
      const fake = await startFakeModel(script);
      fakes.push(fake);
      return fake;
    }

    async function modelAgent(fake: FakeModel, runtime: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
      return createAgent(server, {
        name: 'analyst',
        runtime: { type: 'model', base_url: fake.url, model: 'test-model', api_key_env: 'TEST_API_KEY', ...runtime },
        ...extra,
      });
    }

    async function finished(id: string, timeoutMs = 15_000): Promise<any> {
      return eventually(async () => {
        const res = await server.api('GET', `/v1/jobs/${id}`);
        return TERMINAL.includes(res.body.status) ? res.body : null;
      }, timeoutMs);
    }

    async function events(id: string): Promise<any[]> {
      return (await server.api('GET', `/v1/jobs/${id}/events?limit=1000`)).body.data;
    }

    it('sends the brief as messages with a strict json_schema response format, and completes with the structured result', async () => {
      const answer = { competitors: ['Asana', 'Trello'], recommendation: 'Own the small-agency niche.' };
      const fake = await fakeModel([{ content: JSON.stringify(answer), usage: 42 }]);
      const agent = await modelAgent(fake, { instructions: 'You are a careful market researcher.', temperature: 0.2 });
      const schema = {
        type: 'object',
        properties: { competitors: { type: 'array', items: { type: 'string' } }, recommendation: { type: 'string' } },
        required: ['competitors', 'recommendation'],
        additionalProperties: false,
      };
      const brief = {
        objective: 'Research the top competitors of Acme Corp and recommend a positioning.',
        context: 'Acme sells project management software to small agencies.',
        output_schema: schema,
        constraints: { max_duration_seconds: 600, region: 'EU' },
      };
      const id = await dispatch(server, agent.id, { brief });

      const job = await finished(id);
      expect(job).toMatchObject({ status: 'completed', result: answer, tokens_used: 42, attempt: 1, error: null });

      expect(fake.requests).toHaveLength(1);
      const { body, headers } = fake.requests[0];
      expect(headers.authorization).toBe('Bearer sk-test-123');
      expect(body).toMatchObject({ model: 'test-model', temperature: 0.2 });
      expect(body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'result', schema, strict: true } });
      expect(body.tools.map((t: any) => t.function.name)).toEqual(['dispatch_subjob', 'list_agents']);
      const [system, user] = body.messages;
      expect(system.role).toBe('system');
      expect(system.content.startsWith('You are a careful market researcher.')).toBe(true);
      expect(system.content).toContain(JSON.stringify(schema));
      expect(user.role).toBe('user');
      expect(JSON.parse(user.content)).toEqual({ objective: brief.objective, context: brief.context, constraints: brief.constraints });
    });

    it('sends the validator errors back when the result does not match output_schema, and accepts the corrected one', async () => {
      const fake = await fakeModel([
        { content: '{"n": "seven"}', usage: 10 },
        { content: '```json\n{"n": 7}\n```', usage: 12 },
      ]);
      const agent = await modelAgent(fake);
      // minimum is not a strict-mode keyword problem, but the missing additionalProperties: false is.
      const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] };
      const id = await dispatch(server, agent.id, { brief: { objective: 'Count the items.', output_schema: schema } });

      const job = await finished(id);
      expect(job).toMatchObject({ status: 'completed', result: { n: 7 }, tokens_used: 22 });
      expect(fake.requests[0].body.response_format.json_schema.strict).toBe(false);
      const correction = fake.requests[1].body.messages;
      expect(correction.at(-2)).toEqual({ role: 'assistant', content: '{"n": "seven"}' });
      expect(correction.at(-1).role).toBe('user');
      expect(correction.at(-1).content).toContain('- result.n must be an integer');
    });

    it('fails with output_schema_mismatch and the validator errors after the allowed corrections', async () => {
      const fake = await fakeModel([{ content: '{"n": "still not a number"}' }]);
      const agent = await modelAgent(fake);
      const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
      const id = await dispatch(server, agent.id, { brief: { objective: 'Count.', output_schema: schema } });

      const job = await finished(id);
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('output_schema_mismatch');
      expect(job.error.message).toBe("The model's result does not match brief.output_schema (result.n must be an integer) after 2 correction(s).");
      expect(job.error.details[0]).toMatchObject({ path: '/n', keyword: 'type' });
      // The first answer and two corrections (maxCorrections: 2), then no more calls.
      expect(fake.requests).toHaveLength(3);
    });

    it('delegates through dispatch_subjob to a worker agent run by the SDK and uses the subjob result', async () => {
      const worker = await createAgent(server, { name: 'calculator', description: 'Adds two numbers given as JSON context.' });
      const handle = runWorker({
        url: server.url,
        agentId: worker.id,
        token: worker.token,
        waitSeconds: 1,
        onError: () => {},
        handler: async (job) => {
          const { a, b } = JSON.parse(job.brief.context!) as { a: number; b: number };
          return { sum: a + b };
        },
      });
      try {
        const lastToolContent = (request: { body: any }) => JSON.parse(request.body.messages.at(-1).content);
        const fake = await fakeModel([
          { tool_calls: [{ name: 'list_agents', arguments: {} }], usage: 10 },
          (request) => {
            const calculator = lastToolContent(request).agents.find((a: any) => a.name === 'calculator');
            return {
              usage: 10,
              tool_calls: [
                {
                  name: 'dispatch_subjob',
                  arguments: {
                    agent_id: calculator.id,
                    objective: 'Add the two numbers.',
                    context: JSON.stringify({ a: 2, b: 3 }),
                    output_schema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] },
                  },
                },
              ],
            };
          },
          (request) => ({ content: JSON.stringify({ answer: lastToolContent(request).result.sum }), usage: 10 }),
        ]);
        const agent = await modelAgent(fake);
        const id = await dispatch(server, agent.id, {
          brief: { objective: 'What is 2 + 3? Delegate the arithmetic.', output_schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] } },
        });

        const job = await finished(id);
        expect(job).toMatchObject({ status: 'completed', result: { answer: 5 }, tokens_used: 30 });
        expect(job.subjobs).toHaveLength(1);
        expect(job.subjobs[0]).toMatchObject({ agent_id: worker.id, status: 'completed' });
        const child = (await server.api('GET', `/v1/jobs/${job.subjobs[0].id}`)).body;
        expect(child).toMatchObject({ parent_job_id: id, result: { sum: 5 }, brief: { objective: 'Add the two numbers.' } });
        // The tool result the model saw is the child's result.
        expect(JSON.parse(fake.requests[2].body.messages.at(-1).content)).toMatchObject({ subjob_id: child.id, status: 'completed', result: { sum: 5 } });

        const log = await events(id);
        const toolCalls = log.filter((e) => e.type === 'job.tool_call').map((e) => [e.data.tool, e.data.allowed]);
        expect(toolCalls).toEqual([
          ['list_agents', true],
          ['dispatch_subjob', true],
        ]);
        expect(log.some((e) => e.type === 'job.subjob_dispatched' && e.data.subjob_id === child.id)).toBe(true);
      } finally {
        await handle.stop();
      }
    });

    it('fails with token_budget_exceeded as soon as a model call crosses max_tokens, and makes no further call', async () => {
      const fake = await fakeModel([
        { tool_calls: [{ name: 'list_agents', arguments: {} }], usage: 60 },
        { tool_calls: [{ name: 'list_agents', arguments: {} }], usage: 60 },
        { content: 'never asked for', usage: 1 },
      ]);
      const agent = await modelAgent(fake);
      const id = await dispatch(server, agent.id, { brief: { objective: 'Look around.', constraints: { max_tokens: 100 } } });

      const job = await finished(id);
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('token_budget_exceeded');
      expect(job.tokens_used).toBe(120);
      await sleep(300);
      expect(fake.requests).toHaveLength(2);
      // The second turn's tool call was never run: the budget was checked first.
      expect((await events(id)).filter((e) => e.type === 'job.tool_call')).toHaveLength(1);
    });

    it('never offers a tool the brief does not allow, and refuses it (as an event) when the model calls it anyway', async () => {
      const fake = await fakeModel([
        { tool_calls: [{ name: 'dispatch_subjob', arguments: { agent_id: 'agt_01hxyz0000000000000000000a', objective: 'x' } }] },
        { content: 'done without help' },
      ]);
      const agent = await modelAgent(fake);
      const id = await dispatch(server, agent.id, { brief: { objective: 'Do it alone.', constraints: { allowed_tools: ['list_agents'] } } });

      const job = await finished(id);
      expect(job).toMatchObject({ status: 'completed', result: { text: 'done without help' }, subjobs: [] });
      expect(fake.requests[0].body.tools.map((t: any) => t.function.name)).toEqual(['list_agents']);
      expect(fake.requests[1].body.messages.at(-1)).toMatchObject({ role: 'tool', content: expect.stringContaining('tool_not_allowed') });
      const refused = (await events(id)).filter((e) => e.type === 'job.tool_call');
      expect(refused.map((e) => [e.data.tool, e.data.allowed])).toEqual([['dispatch_subjob', false]]);

      const bare = await fakeModel([{ content: 'no tools at all' }]);
      const loner = await modelAgent(bare);
      const second = await dispatch(server, loner.id, { brief: { objective: 'x', constraints: { denied_tools: ['dispatch_subjob', 'list_agents'] } } });
      expect((await finished(second)).status).toBe('completed');
      expect(bare.requests[0].body).not.toHaveProperty('tools');
    });

    it('aborts the model call in flight when the job is cancelled, and confirms the cancel', async () => {
      const fake = await fakeModel([{ hang: true }]);
      const agent = await modelAgent(fake);
      const id = await dispatch(server, agent.id, { brief: { objective: 'Think for a very long time.' } });
      const request = await fake.received(1);

      const asked = Date.now();
      const cancel = await server.api('POST', `/v1/jobs/${id}/cancel`);
      expect(cancel.status).toBe(202);
      expect(cancel.body.status).toBe('running');
      expect(cancel.body.cancel_requested_at).not.toBeNull();

      await request.closed;
      expect(request.closedByClient).toBe(true);
      const job = await finished(id);
      expect(job).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      // Well within one lease (30 s): the cancel reached the run through the job's wake-ups, not a lease expiry.
      expect(Date.now() - asked).toBeLessThan(5000);
      const last = (await events(id)).at(-1);
      expect(last).toMatchObject({ type: 'job.cancelled', data: { confirmed_by: 'agent' } });
      expect(fake.requests).toHaveLength(1);
    });

    it('aborts the model call in flight when max_duration_seconds passes; the job fails with timeout', async () => {
      const fake = await fakeModel([{ hang: true }]);
      const agent = await modelAgent(fake);
      const id = await dispatch(server, agent.id, { brief: { objective: 'Slow.', constraints: { max_duration_seconds: 1 } } });
      const request = await fake.received(1);
      await request.closed;
      const job = await finished(id);
      expect(job).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
      expect(fake.requests).toHaveLength(1);
    });

    it('retries a provider that fails with 5xx, with growing backoff, then fails the job with model_provider_error', async () => {
      const fake = await fakeModel([{ status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } }]);
      const agent = await modelAgent(fake);
      const id = await dispatch(server, agent.id, { brief: { objective: 'x' } });

      const job = await finished(id);
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('model_provider_error');
      expect(job.error.message).toContain('503');
      expect(job.error.message).toContain('overloaded');
      expect(job.error.message).toContain('3 attempts');
      // One call and maxRetries (2) retries; backoff 100 ms then 200 ms, each at most 25 % shorter for jitter.
      expect(fake.requests).toHaveLength(3);
      const [a, b, c] = fake.requests.map((r) => r.receivedAt);
      expect(b - a).toBeGreaterThanOrEqual(75);
      expect(c - b).toBeGreaterThanOrEqual(150);
    });

    it('recovers when a retry succeeds, and does not retry a request the provider refuses with 4xx', async () => {
      const flaky = await fakeModel([{ status: 429, headers: { 'retry-after-ms': '50' } }, { content: 'second time lucky' }]);
      const first = await dispatch(server, (await modelAgent(flaky)).id, { brief: { objective: 'x' } });
      expect(await finished(first)).toMatchObject({ status: 'completed', result: { text: 'second time lucky' } });
      expect(flaky.requests).toHaveLength(2);

      const strict = await fakeModel([{ status: 400, body: { error: { message: "The model 'test-model' does not exist", type: 'invalid_request_error' } } }]);
      const second = await dispatch(server, (await modelAgent(strict)).id, { brief: { objective: 'x' } });
      const job = await finished(second);
      expect(job.error.code).toBe('model_provider_error');
      expect(job.error.message).toContain("does not exist");
      expect(job.error.details).toMatchObject({ status: 400 });
      expect(strict.requests).toHaveLength(1);
    });

    it('times out a provider that does not answer, retries, then fails the job with model_timeout', async () => {
      const fake = await fakeModel([{ hang: true }]);
      const agent = await modelAgent(fake, { request_timeout_seconds: 0.3 });
      const id = await dispatch(server, agent.id, { brief: { objective: 'x' } });

      const job = await finished(id);
      expect(job.status).toBe('failed');
      expect(job.error.code).toBe('model_timeout');
      expect(job.error.message).toContain('request_timeout_seconds');
      expect(fake.requests).toHaveLength(3);
      expect(fake.requests.every((r) => r.closedByClient)).toBe(true);
    });

    it('fails the jobs of an agent whose api_key_env the operator stopped allowing after it was made', async () => {
      const fake = await fakeModel([{ content: 'never asked' }]);
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-narrowed-'));
      const store = await engineOptions(engine, dataDir);
      const base = { port: 0, host: '127.0.0.1', dataDir, announce: () => {}, ...store };
      const silent = pino({ level: 'silent' });
      try {
        const wide = await startServer({ ...base, modelRuntime: { ...MODEL_OPTIONS, apiKeyEnvNames: ['*_API_KEY', 'LEGACY_TOKEN'] } }, silent);
        const key = wide.firstKey!;
        const runtime = { type: 'model', base_url: fake.url, model: 'test-model', api_key_env: 'LEGACY_TOKEN' };
        const agent = await call(wide.url, 'POST', '/v1/agents', { name: 'legacy', runtime }, { token: key });
        expect(agent.status).toBe(201);
        await wide.close();
        const narrow = await startServer({ ...base, modelRuntime: MODEL_OPTIONS }, silent);
        try {
          const job = await call(narrow.url, 'POST', '/v1/jobs', { agent_id: agent.body.id, brief: { objective: 'x' } }, { token: key });
          const done = await eventually(async () => {
            const res = await call(narrow.url, 'GET', `/v1/jobs/${job.body.id}`, undefined, { token: key });
            return TERMINAL.includes(res.body.status) ? res.body : null;
          }, 15_000);
          expect(done.error.code).toBe('model_config_error');
          expect(done.error.message).toContain("runtime.api_key_env names 'LEGACY_TOKEN'");
          expect(fake.requests).toHaveLength(0);
        } finally {
          await narrow.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        if (store.databaseUrl) await dropDatabase(store.databaseUrl);
      }
    });

    it('reads the API key from the variable the agent names, and fails clearly when it is missing or not allowed', async () => {
      const fake = await fakeModel([{ content: 'hello from a keyless endpoint' }]);
      const missing = await dispatch(server, (await modelAgent(fake, { api_key_env: 'MISSING_API_KEY' })).id, { brief: { objective: 'x' } });
      const missingJob = await finished(missing);
      expect(missingJob.error.code).toBe('model_api_key_missing');
      expect(missingJob.error.message).toContain('MISSING_API_KEY');

      // A variable the server does not hand out is refused when the agent is made, or changed, not at every job.
      const runtime = { type: 'model', base_url: fake.url, model: 'test-model', api_key_env: 'DATABASE_URL' };
      const secret = await server.api('POST', '/v1/agents', { name: 'secretive', runtime });
      expect(secret.status).toBe(400);
      expect(secret.body.error.code).toBe('invalid_request');
      expect(secret.body.error.message).toContain("runtime.api_key_env names 'DATABASE_URL', which this server does not hand out as an API key: it allows *_API_KEY");
      const allowed = await modelAgent(fake);
      const changed = await server.api('PATCH', `/v1/agents/${allowed.id}`, { runtime });
      expect(changed.status).toBe(400);
      expect(changed.body.error.message).toContain("runtime.api_key_env names 'DATABASE_URL'");
      expect(fake.requests).toHaveLength(0);

      // No api_key_env (Ollama, vLLM): no Authorization header at all.
      const keyless = await dispatch(server, (await modelAgent(fake, { api_key_env: undefined })).id, { brief: { objective: 'x' } });
      expect(await finished(keyless)).toMatchObject({ status: 'completed', result: { text: 'hello from a keyless endpoint' } });
      expect(fake.requests[0].headers).not.toHaveProperty('authorization');
      // The key is never stored: the agent shows the variable's name only.
      const agents = await server.api('GET', '/v1/agents?limit=100');
      expect(agents.text).not.toContain('sk-test-123');
    });

    it('cancels a model job waiting on a model subjob: both calls in flight are aborted and both jobs end cancelled', async () => {
      const childFake = await fakeModel([{ hang: true }]);
      const child = await modelAgent(childFake, {}, { name: 'deep-thinker' });
      const parentFake = await fakeModel([
        { tool_calls: [{ name: 'dispatch_subjob', arguments: { agent_id: child.id, objective: 'Think deeply.' } }] },
        { content: 'never asked for' },
      ]);
      const parent = await modelAgent(parentFake);
      const id = await dispatch(server, parent.id, { brief: { objective: 'Delegate the thinking.' } });
      const childCall = await childFake.received(1);

      await server.api('POST', `/v1/jobs/${id}/cancel`);
      await childCall.closed;
      const job = await finished(id);
      expect(job).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      const subjob = (await server.api('GET', `/v1/jobs/${job.subjobs[0].id}`)).body;
      const childJob = await finished(subjob.id);
      expect(childJob).toMatchObject({ status: 'cancelled', error: { code: 'parent_cancelled' }, parent_job_id: id });
      expect(parentFake.requests).toHaveLength(1);
    });

    it("runs at most the agent's max_concurrency model calls at once", async () => {
      const gates = [deferred<FakeReply>(), deferred<FakeReply>(), deferred<FakeReply>()];
      const fake = await fakeModel(gates.map((gate) => ({ later: gate.promise })));
      const agent = await modelAgent(fake, {}, { max_concurrency: 2 });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await dispatch(server, agent.id, { brief: { objective: `job ${i}` } }));

      await fake.received(2);
      await sleep(300);
      expect(fake.requests).toHaveLength(2);
      gates[0].resolve({ content: 'one' });
      await fake.received(3);
      gates[1].resolve({ content: 'two' });
      gates[2].resolve({ content: 'three' });
      for (const id of ids) expect((await finished(id)).status).toBe('completed');
    });
  });

  describe(`model runs and their leases (${engine})`, () => {
    it('keeps the lease with heartbeats while a model call lasts longer than the lease', async () => {
      const fake = await startFakeModel([{ later: sleep(2500).then(() => ({ content: 'slow but sure' })) }]);
      const server = await startTestServer(engine, { leaseDuration: '1s', modelRuntime: MODEL_OPTIONS });
      try {
        const agent = await createAgent(server, {
          name: 'slowpoke',
          runtime: { type: 'model', base_url: fake.url, model: 'test-model', api_key_env: 'TEST_API_KEY' },
        });
        const id = await dispatch(server, agent.id, { brief: { objective: 'Take your time.' } });
        const job = await eventually(async () => {
          const res = await server.api('GET', `/v1/jobs/${id}`);
          return TERMINAL.includes(res.body.status) ? res.body : null;
        }, 15_000);
        // Not re-queued by an expired lease in the meantime: one attempt, one call.
        expect(job).toMatchObject({ status: 'completed', result: { text: 'slow but sure' }, attempt: 1 });
        expect(fake.requests).toHaveLength(1);
      } finally {
        await server.stop();
        await fake.stop();
      }
    });

    it('runs a job that was in flight when the server stopped again from its brief, on the next attempt, after its lease ends', async () => {
      const fake = await startFakeModel([{ hang: true }, { content: '{"ok": true}' }]);
      const options = { leaseDuration: '1s', modelRuntime: MODEL_OPTIONS };
      const first = await startTestServer(engine, options);
      let second: TestServer | null = null;
      try {
        const agent = await createAgent(first, {
          name: 'survivor',
          runtime: { type: 'model', base_url: fake.url, model: 'test-model', api_key_env: 'TEST_API_KEY' },
        });
        const id = await dispatch(first, agent.id, { brief: { objective: 'Survive a restart.', output_schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } } });
        const inFlight = await fake.received(1);

        // A graceful stop aborts the call and reports nothing: the lease is left to expire.
        await first.close();
        await inFlight.closed;

        second = await startTestServer(engine, { ...options, dataDir: first.options.dataDir, databaseUrl: first.options.databaseUrl ?? undefined });
        const get = () => call(second!.url, 'GET', `/v1/jobs/${id}`, undefined, { token: first.apiKey });
        const job = await eventually(async () => {
          const res = await get();
          return TERMINAL.includes(res.body.status) ? res.body : null;
        }, 15_000);
        expect(job).toMatchObject({ status: 'completed', result: { ok: true }, attempt: 2 });
        expect(fake.requests).toHaveLength(2);
        // Re-run from its brief: the same conversation start as the first attempt.
        expect(fake.requests[1].body.messages).toEqual(fake.requests[0].body.messages);
        const log = (await call(second.url, 'GET', `/v1/jobs/${id}/events`, undefined, { token: first.apiKey })).body.data;
        expect(log.some((e: any) => e.type === 'job.queued' && e.data.reason === 'lease_expired' && e.data.attempt === 2)).toBe(true);
      } finally {
        await first.close();
        if (second) await second.stop();
        rmSync(first.options.dataDir, { recursive: true, force: true });
        rmSync(first.dataDir, { recursive: true, force: true });
        await fake.stop();
      }
    });
  });
}

describe('structured output requests', () => {
  const strictObject = (properties: Record<string, unknown>) => ({
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  });

  it('asks for strict mode when every object closes its properties and requires them all', () => {
    expect(qualifiesForStrict(strictObject({ name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, maxItems: 5 } }))).toBe(true);
    expect(qualifiesForStrict(strictObject({ when: { type: 'string', format: 'date-time' }, kind: { enum: ['a', 'b'] } }))).toBe(true);
    expect(qualifiesForStrict(strictObject({ nested: strictObject({ n: { type: ['integer', 'null'] } }) }))).toBe(true);
    expect(qualifiesForStrict({ ...strictObject({ item: { $ref: '#/$defs/item' } }), $defs: { item: strictObject({ id: { type: 'string' } }) } })).toBe(true);
  });

  it('asks for non-strict output when OpenAI would refuse the schema in strict mode', () => {
    expect(qualifiesForStrict({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] })).toBe(false);
    expect(qualifiesForStrict({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false })).toBe(false);
    expect(qualifiesForStrict(strictObject({ a: { type: 'string', minLength: 1 } }))).toBe(false);
    expect(qualifiesForStrict(strictObject({ a: { type: 'string', format: 'uri' } }))).toBe(false);
    expect(qualifiesForStrict(strictObject({ inner: { type: 'object', properties: { b: { type: 'string' } }, required: ['b'] } }))).toBe(false);
    expect(qualifiesForStrict({ type: 'array', items: { type: 'string' } })).toBe(false);
    expect(qualifiesForStrict({ anyOf: [strictObject({ a: { type: 'string' } })] })).toBe(false);
  });

  it("drops the root's $schema and names the format after a usable title", () => {
    const format = responseFormatFor({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'Market report!', ...strictObject({ a: { type: 'string' } }) });
    expect(format.json_schema.name).toBe('Market_report_');
    expect(format.json_schema.schema).not.toHaveProperty('$schema');
    expect(format.json_schema.strict).toBe(true);
  });
});

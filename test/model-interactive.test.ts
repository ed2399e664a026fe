import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRuntimeOptions } from '../src/runtimes/model/options.js';
import { ENGINES } from './support/engines.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { createAgent, dispatch, eventually } from './support/fixtures.js';
import { startFakeModel, type FakeModel, type FakeStep } from './support/fake-model.js';

const MODEL_OPTIONS: ModelRuntimeOptions = {
  env: { TEST_API_KEY: 'sk-test-123' },
  maxRetries: 1,
  retryBaseMs: 100,
  retryMaxMs: 500,
  requestTimeoutMs: 5000,
  claimWaitSeconds: 5,
};
const TERMINAL = ['completed', 'failed', 'cancelled'];
const runtime = (fake: FakeModel, extra: Record<string, unknown> = {}) => ({
  type: 'model',
  base_url: fake.url,
  model: 'test-model',
  api_key_env: 'TEST_API_KEY',
  ...extra,
});

for (const engine of ENGINES) {
  describe(`model agents that talk with people (${engine})`, () => {
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    afterAll(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('asks with ask_user, keeps its conversation across a server restart, continues from where it stopped and streams its answer', async () => {
      const question = { name: 'ask_user', arguments: { question: 'Which region should I cover?', input_schema: { type: 'string', enum: ['EU', 'US'] } } };
      const answer = 'Covering the EU region, as you asked, with the pricing focus.';
      const fake = await startFakeModel([{ tool_calls: [question], usage: 30 }, { content: answer, usage: 20, pauseMs: 150 }]);
      cleanup.push(() => fake.stop());
      const options = { modelRuntime: MODEL_OPTIONS };
      const first = await startTestServer(engine, options);
      const agent = await createAgent(first, { name: 'asker', runtime: runtime(fake, { ask_user: true }) });
      const id = await dispatch(first, agent.id, { brief: { objective: 'Write a market note.' } });

      const waiting = await eventually(async () => {
        const job = (await first.api('GET', `/v1/jobs/${id}`)).body;
        return job.waiting_for ? job : null;
      });
      expect(waiting).toMatchObject({ status: 'running', attempt: 1, tokens_used: 30 });
      expect(waiting.waiting_for).toMatchObject({ kind: 'input', prompt: 'Which region should I cover?', input_schema: { enum: ['EU', 'US'] } });
      expect(fake.requests[0].body.tools.map((t: any) => t.function.name)).toContain('ask_user');
      expect((await first.api('GET', `/v1/agents/${agent.id}`)).body.counts).toMatchObject({ running: 0, waiting: 1 });

      // The server stops while the question waits; another starts on the same store.
      await first.close();
      const second = await startTestServer(engine, { ...options, dataDir: first.options.dataDir, databaseUrl: first.options.databaseUrl ?? undefined });
      cleanup.push(async () => {
        await second.stop();
        rmSync(first.dataDir, { recursive: true, force: true });
      });
      const api = (method: string, path: string, body?: unknown) => call(second.url, method, path, body, { token: first.apiKey });
      expect((await api('POST', `/v1/jobs/${id}/messages`, { content: 'Focus on pricing, please.' })).status).toBe(201);
      const wrong = await api('POST', `/v1/jobs/${id}/input`, { request_id: waiting.waiting_for.id, input: 'Mars' });
      expect(wrong.status).toBe(422);
      expect((await api('POST', `/v1/jobs/${id}/input`, { request_id: waiting.waiting_for.id, input: 'EU' })).status).toBe(200);

      const job = await eventually(async () => {
        const res = await api('GET', `/v1/jobs/${id}`);
        return TERMINAL.includes(res.body.status) ? res.body : null;
      }, 15_000);
      expect(job).toMatchObject({ status: 'completed', result: { text: answer }, attempt: 1, tokens_used: 50 });

      // The second call is the first conversation, the question, its answer, and the message as a user turn.
      const [before, after] = fake.requests.map((r) => r.body.messages);
      expect(after.slice(0, before.length)).toEqual(before);
      expect(after.slice(before.length)).toEqual([
        { role: 'assistant', content: null, tool_calls: [expect.objectContaining({ function: { name: 'ask_user', arguments: JSON.stringify(question.arguments) } })] },
        { role: 'tool', tool_call_id: expect.any(String), content: '"EU"' },
        { role: 'user', content: 'Focus on pricing, please.' },
      ]);
      // The answer streamed out in several deltas, and reads whole from the output.
      const events = (await api('GET', `/v1/jobs/${id}/events?limit=1000`)).body.data;
      const deltas = events.filter((e: any) => e.type === 'job.output').map((e: any) => e.data.delta);
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(answer);
      expect((await api('GET', `/v1/jobs/${id}/output`)).body.streams).toEqual({ default: answer });
      const types = events.map((e: any) => e.type).filter((t: string) => !['job.output', 'job.progress'].includes(t));
      expect(types).toEqual(['job.queued', 'job.running', 'job.input_required', 'job.message', 'job.input_received', 'job.resumed', 'job.completed']);
    });

    describe('on one server', () => {
      let server: TestServer;
      beforeAll(async () => {
        server = await startTestServer(engine, { modelRuntime: MODEL_OPTIONS });
        cleanup.push(() => server.stop());
      });
      async function fakeModel(script: FakeStep[]) {
        const fake = await startFakeModel(script);
        cleanup.push(() => fake.stop());
        return fake;
      }
      const waitingFor = (id: string) =>
        eventually(async () => (await server.api('GET', `/v1/jobs/${id}`)).body.waiting_for ?? null);
      const finished = (id: string) =>
        eventually(async () => {
          const res = await server.api('GET', `/v1/jobs/${id}`);
          return TERMINAL.includes(res.body.status) ? res.body : null;
        }, 15_000);

      it('waits for a person to approve a tool in approval_required_tools, then runs it — or tells the model it was denied', async () => {
        for (const approved of [true, false]) {
          const fake = await fakeModel([{ tool_calls: [{ name: 'list_agents', arguments: {} }] }, { content: 'done' }]);
          const agent = await createAgent(server, { name: `gated-${approved}`, runtime: runtime(fake) });
          const id = await dispatch(server, agent.id, { brief: { objective: 'Look around.', constraints: { approval_required_tools: ['list_agents'] } } });
          const request = await waitingFor(id);
          expect(request).toMatchObject({ kind: 'approval', tool: 'list_agents', status: 'pending' });
          expect((await server.api('POST', `/v1/jobs/${id}/input`, { request_id: request.id, input: { approved, note: 'checked' } })).status).toBe(200);
          expect(await finished(id)).toMatchObject({ status: 'completed', result: { text: 'done' }, attempt: 1 });
          const toolMessage = fake.requests[1].body.messages.at(-1);
          expect(toolMessage.role).toBe('tool');
          if (approved) expect(JSON.parse(toolMessage.content).agents.map((a: any) => a.id)).toContain(agent.id);
          else expect(toolMessage.content).toContain('tool_not_approved');
        }
      });

      it('adds a message sent while the model works as a user turn of its next call', async () => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const fake = await fakeModel([
          { later: held.then(() => ({ tool_calls: [{ name: 'list_agents', arguments: {} }] })) },
          { content: 'noted' },
        ]);
        const agent = await createAgent(server, { name: 'listener', runtime: runtime(fake) });
        const id = await dispatch(server, agent.id, { brief: { objective: 'Listen.' } });
        await fake.received(1);
        expect((await server.api('POST', `/v1/jobs/${id}/messages`, { content: { priority: 'high' } })).status).toBe(201);
        // The run hears of the message through its next heartbeat, woken by the message's event.
        await new Promise((resolve) => setTimeout(resolve, 300));
        release();
        expect(await finished(id)).toMatchObject({ status: 'completed' });
        expect(fake.requests[1].body.messages.at(-1)).toEqual({ role: 'user', content: '{"priority":"high"}' });
      });

      it('answers the model with the reason when it asks with a schema that is not one, and goes on', async () => {
        const fake = await fakeModel([
          { tool_calls: [{ name: 'ask_user', arguments: { question: 'Pick one', input_schema: { type: 'banana' } } }] },
          { content: 'I will decide myself.' },
        ]);
        const agent = await createAgent(server, { name: 'sloppy', runtime: runtime(fake, { ask_user: true }) });
        const id = await dispatch(server, agent.id, { brief: { objective: 'Decide.' } });
        expect(await finished(id)).toMatchObject({ status: 'completed', result: { text: 'I will decide myself.' } });
        expect(fake.requests[1].body.messages.at(-1).content).toContain('invalid_input_schema');
      });
    });
  });
}

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker, ToolNotApprovedError, type WorkerHandle } from '@agentjobs/sdk/worker';
import { startTestServer, type TestServer } from './support/server.js';
import { createAgent, eventually } from './support/fixtures.js';
import { pooledFetch } from './support/http-client.js';
import { assertBuilt, cleanEnv, runCli } from './support/cli.js';

// `inbox`, `answer`, `approve`, `deny`, `send` and `watch` of the built binary, against a real server and SDK workers.
describe('the agentjobs CLI with interactive jobs', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const workers: WorkerHandle[] = [];
  const workerFetch = pooledFetch();
  const agents: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    server = await startTestServer();
    env = cleanEnv({ AGENTJOBS_URL: server.url, AGENTJOBS_API_KEY: server.apiKey });
    const start = async (name: string, handler: Parameters<typeof runWorker>[0]['handler']) => {
      const agent = await createAgent(server, { name });
      agents[name] = agent.id;
      workers.push(runWorker({ url: server.url, agentId: agent.id, token: agent.token, handler, leaseSeconds: 3, waitSeconds: 1, fetch: workerFetch.fetch, onError: () => {} }));
    };
    await start('painter', async (_job, ctx) => {
      ctx.output('mixing paint\n');
      const { colour } = await ctx.ask<{ colour: string }>('Which colour?', {
        schema: { type: 'object', properties: { colour: { enum: ['red', 'blue'] } }, required: ['colour'] },
      });
      ctx.output(`painting it ${colour}\n`);
      return { colour };
    });
    await start('deployer', async (_job, ctx) => {
      try {
        await ctx.toolCall('deploy');
        return 'deployed';
      } catch (error) {
        if (error instanceof ToolNotApprovedError) return `held back: ${error.note}`;
        throw error;
      }
    });
    await start('listener', async (_job, ctx) => {
      for await (const message of ctx.messages) return { heard: message.content };
      return null;
    });
  });

  afterAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await workerFetch.close();
    await server.stop();
  });

  const cli = (...args: string[]) => runCli(args, env);
  const dispatch = async (agent: string, extra: Record<string, unknown> = {}) =>
    (await server.api('POST', '/v1/jobs', { agent_id: agents[agent], brief: { objective: `work for ${agent}`, ...extra } })).body.id as string;
  const waiting = (id: string) => eventually(async () => (await server.api('GET', `/v1/jobs/${id}`)).body.waiting_for ?? null);

  it('lists what waits for a person, answers it from a file, and refuses a wrong answer naming the field', async () => {
    const id = await dispatch('painter');
    const request = await waiting(id);
    const inbox = await cli('inbox');
    expect(inbox.code).toBe(0);
    expect(inbox.stdout).toMatch(new RegExp(`${id}\\s+painter\\s+input\\s+.*Which colour\\?`));
    const tree = await cli('inbox', id, '--json');
    expect(JSON.parse(tree.stdout).data.map((r: any) => r.id)).toEqual([request.id]);

    const wrong = await cli('answer', id, '--input', '{"colour": "green"}');
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('input_schema_mismatch');
    expect(wrong.stderr).toContain('input.colour');
    const file = join(server.dataDir, 'answer.json');
    writeFileSync(file, '{"colour": "blue"}');
    const answered = await cli('answer', id, '--input', `@${file}`);
    expect(answered.code).toBe(0);
    expect(answered.stdout).toContain(`${id} answered`);

    const watched = await cli('watch', id, '--no-tty');
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/output\s+mixing paint\\n/);
    expect(watched.stdout).toMatch(/input_required\s+waits for a person: Which colour\?/);
    expect(watched.stdout).toMatch(/output\s+painting it blue\\n/);
    expect(watched.stdout).toContain('"colour": "blue"');
    const again = await cli('answer', id, '--input', '{"colour": "red"}');
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`${id} has no question to answer: it already completed`);
  });

  it('approves and denies a gated tool call, with a note', async () => {
    for (const [command, expected] of [
      ['approve', 'deployed'],
      ['deny', 'held back: not today'],
    ] as const) {
      const id = await dispatch('deployer', { constraints: { approval_required_tools: ['deploy'] } });
      await waiting(id);
      const inbox = await cli('inbox');
      expect(inbox.stdout).toMatch(new RegExp(`${id}\\s+deployer\\s+approve deploy`));
      const decided = await cli(command, id, '--note', 'not today');
      expect(decided.code).toBe(0);
      expect(decided.stdout).toContain(`${id} ${command === 'approve' ? 'approved' : 'denied'}`);
      const done = await eventually(async () => {
        const job = (await server.api('GET', `/v1/jobs/${id}`)).body;
        return job.status === 'completed' ? job : null;
      });
      expect(done.result).toBe(expected);
    }
    const painter = await dispatch('painter');
    await waiting(painter);
    const misuse = await cli('approve', painter);
    expect(misuse.code).toBe(64);
    expect(misuse.stderr).toContain(`agentjobs answer ${painter}`);
    await server.api('POST', `/v1/jobs/${painter}/cancel`);
  });

  it('sends a message into a running job', async () => {
    const id = await dispatch('listener');
    await eventually(async () => (await server.api('GET', `/v1/jobs/${id}`)).body.status === 'running');
    const sent = await cli('send', id, 'focus', 'on', 'pricing');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^jmg_\w+ sent to job_/);
    const done = await eventually(async () => {
      const job = (await server.api('GET', `/v1/jobs/${id}`)).body;
      return job.status === 'completed' ? job : null;
    });
    expect(done.result).toEqual({ heard: 'focus on pricing' });
    const late = await cli('send', id, 'too late');
    expect(late.code).toBe(3);
    expect(late.stderr).toContain('job_already_finished');
  });
});

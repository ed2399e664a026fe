import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWorker, ToolNotApprovedError, WaitingForInputError, type JobMessage, type WorkerHandle } from '@agentjobs/sdk/worker';
import { AgentJobsClient } from '@agentjobs/sdk/client';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createAgent, eventually } from './support/fixtures.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

for (const engine of ENGINES) {
  describe(`the SDK in interactive jobs (${engine})`, () => {
    let server: TestServer;
    let client: AgentJobsClient;
    const workers: WorkerHandle[] = [];
    beforeEach(async () => {
      server = await startTestServer(engine);
      client = new AgentJobsClient({ url: server.url, apiKey: server.apiKey });
    });
    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await server.stop();
    });
    const worker = (agent: { id: string; token: string }, handler: Parameters<typeof runWorker>[0]['handler'], extra: Partial<Parameters<typeof runWorker>[0]> = {}) => {
      workers.push(runWorker({ url: server.url, agentId: agent.id, token: agent.token, waitSeconds: 1, handler, onError: () => {}, ...extra }));
    };
    /** Resolves to the job once it waits for a person (its waiting_for), or once it ended. */
    const nextStop = (id: string) =>
      eventually(async () => {
        const job = await client.getJob(id);
        return job.waiting_for || TERMINAL.includes(job.status) ? job : null;
      }, 15_000);

    it('replays recorded answers in order: each run asks one more question, side effects before them happen once, tokens add up', async () => {
      const agent = await createAgent(server, { name: 'planner' });
      const runs: Array<{ replayingAtStart: boolean }> = [];
      worker(agent, async (_job, ctx) => {
        runs.push({ replayingAtStart: ctx.replaying });
        // Each run spends its tokens again: they add up across the runs.
        ctx.reportTokens(10);
        ctx.output('plan: ');
        await ctx.artifact({ name: 'draft.txt', mediaType: 'text/plain', text: 'draft' });
        const city = await ctx.ask<string>('Which city?', { schema: { type: 'string' } });
        ctx.output(`${city}; `);
        const days = await ctx.ask<number>(`How many days in ${city}?`, { schema: { type: 'integer', minimum: 1 } });
        ctx.output(`${days} days`);
        return { city, days, questions: ctx.inputs.length };
      });
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'plan a trip' } });
      const first = await nextStop(id);
      expect(first.waiting_for).toMatchObject({ prompt: 'Which city?' });
      await client.answerInput(id, first.waiting_for!.id, 'Lisbon');
      const second = await eventually(async () => {
        const job = await client.getJob(id);
        return job.waiting_for?.prompt === 'How many days in Lisbon?' ? job : null;
      });
      expect((await client.listJobs({ waiting: true })).data.map((j) => j.id)).toContain(id);
      await client.answerInput(id, second.waiting_for!.id, 3);
      const done = await client.waitForJob(id);
      expect(done).toMatchObject({ status: 'completed', attempt: 1, result: { city: 'Lisbon', days: 3, questions: 2 }, tokens_used: 30 });
      expect(runs).toEqual([{ replayingAtStart: false }, { replayingAtStart: true }, { replayingAtStart: true }]);
      // The artifact made before the questions exists once; the output has no repeats.
      expect((await client.artifacts(id)).data.map((a) => a.name)).toEqual(['draft.txt']);
      expect((await client.output(id)).streams).toEqual({ default: 'plan: Lisbon; 3 days' });
      const inbox = await client.listInputRequests(id);
      expect(inbox.data.map((r) => [r.prompt, r.input])).toEqual([
        ['Which city?', 'Lisbon'],
        ['How many days in Lisbon?', 3],
      ]);
    });

    it('fails the job, without a retry, when a run asks other questions than the run before it', async () => {
      const agent = await createAgent(server, { name: 'fickle' });
      let run = 0;
      worker(agent, async (_job, ctx) => {
        run++;
        if (run === 1) await ctx.ask('Name?');
        await ctx.requestApproval('delete_everything');
        return 'unreachable';
      });
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'be fickle' } });
      const waiting = await nextStop(id);
      await client.answerInput(id, waiting.waiting_for!.id, 'Ada');
      const failed = await client.waitForJob(id);
      expect(failed).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'replay_mismatch' } });
      expect(failed.error!.message).toContain('same questions in the same order');
    });

    it('waits for approval of a gated tool: approved, the call goes on; denied, ToolNotApprovedError with the note', async () => {
      const agent = await createAgent(server, { name: 'deployer' });
      worker(agent, async (_job, ctx) => {
        try {
          await ctx.toolCall('deploy', { env: 'prod' });
          return 'deployed';
        } catch (error) {
          if (error instanceof ToolNotApprovedError) return `not deployed: ${error.note}`;
          throw error;
        }
      });
      for (const approved of [true, false]) {
        const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'ship', constraints: { approval_required_tools: ['deploy'] } } });
        const waiting = await nextStop(id);
        expect(waiting.waiting_for).toMatchObject({ kind: 'approval', tool: 'deploy', tool_input: { env: 'prod' } });
        await client.answerInput(id, waiting.waiting_for!.id, { approved, note: approved ? 'go' : 'freeze week' });
        expect((await client.waitForJob(id)).result).toBe(approved ? 'deployed' : 'not deployed: freeze week');
      }
    });

    it('hands a message sent mid-run to the handler through its next heartbeat, after the ones of the claim', async () => {
      const agent = await createAgent(server, { name: 'listener' });
      const seen: JobMessage[] = [];
      worker(
        agent,
        async (_job, ctx) => {
          for await (const message of ctx.messages) {
            seen.push(message);
            if (message.content === 'stop') break;
          }
          return seen.map((m) => m.content);
        },
        { leaseSeconds: 3 },
      );
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'listen' } });
      await client.sendMessage(id, 'early');
      await eventually(async () => (await client.getJob(id)).status === 'running');
      await client.sendMessage(id, { focus: 'pricing' });
      await client.sendMessage(id, 'stop', { idempotencyKey: 'stop-1' });
      expect((await client.waitForJob(id)).result).toEqual(expect.arrayContaining([{ focus: 'pricing' }, 'stop']));
      expect(seen.at(-1)?.content).toBe('stop');
      expect((await client.listMessages(id)).data.map((m) => m.content)).toEqual(['early', { focus: 'pricing' }, 'stop']);
    });

    it('ends the run with WaitingForInputError and reports nothing; the artifact content comes back byte for byte', async () => {
      const agent = await createAgent(server, { name: 'painter' });
      const thrown: unknown[] = [];
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      worker(agent, async (_job, ctx) => {
        await ctx.artifact({ name: 'blob.bin', mediaType: 'application/octet-stream', bytes });
        try {
          return await ctx.ask('Colour?');
        } catch (error) {
          thrown.push(error);
          throw error;
        }
      });
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'paint' } });
      const waiting = await nextStop(id);
      expect(thrown[0]).toBeInstanceOf(WaitingForInputError);
      expect(waiting).toMatchObject({ status: 'running', attempt: 1 });
      const [artifact] = (await client.artifacts(id)).data;
      const content = await client.artifactContent(id, artifact.id);
      expect(content.mediaType).toBe('application/octet-stream');
      expect([...content.bytes]).toEqual([...bytes]);
      await client.cancelJob(id);
      expect((await client.getJob(id)).status).toBe('cancelled');
    });
  });
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentJobsClient, AgentJobsError } from '@agentjobs/sdk/client';
import { JobAbortedError, runWorker, SubjobFailedError, type WorkerHandle, type WorkerOptions } from '@agentjobs/sdk/worker';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, eventually, expireLease, getJob } from './support/fixtures.js';

/** The SDK's two ways to send a request: its own HTTP client (undici), or a fetch given in the options. */
const CLIENTS: Array<[string, typeof fetch | undefined]> = [
  ['undici', undefined],
  ['fetch', (input, init) => fetch(input, init)],
];

const FINDINGS_SCHEMA = {
  type: 'object',
  required: ['findings', 'summary'],
  properties: { findings: { type: 'array', items: { type: 'string' } }, summary: { type: 'string' } },
};

for (const engine of ENGINES) {
  describe(`the SDK's errors (${engine})`, () => {
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
    const worker = (agent: { id: string; token: string }, handler: WorkerOptions['handler'], extra: Partial<WorkerOptions> = {}) => {
      const handle = runWorker({ url: server.url, agentId: agent.id, token: agent.token, waitSeconds: 2, handler, onError: () => {}, ...extra });
      workers.push(handle);
      return handle;
    };
    /**
     * A worker of `lead` whose handler dispatches one subjob to `part` and returns its result, keeping what the wait
     * threw and `ctx.signal.reason` at that moment. A second attempt returns at once.
     */
    const waitingLead = (lead: { id: string; token: string }, part: { id: string }, extra: Partial<WorkerOptions>) => {
      const seen: { caught?: unknown; reason?: unknown } = {};
      worker(lead, async (job, ctx) => {
        if (ctx.attempt > 1) return 'second attempt';
        const child = await ctx.dispatch(part.id, { objective: 'a part' });
        try {
          return await child.result();
        } catch (error) {
          seen.caught = error;
          seen.reason = ctx.signal.reason;
          throw error;
        }
      }, extra);
      return seen;
    };

    for (const [name, fetchImpl] of CLIENTS) {
      it(`rejects a subjob's wait with the parent's JobAbortedError, not network_error, when the parent's cancel is requested (${name})`, async () => {
        const lead = await createAgent(server, { name: 'lead' });
        const slow = await createAgent(server, { name: 'slow' });
        // A lease of 3 s: heartbeats every second, so the parent learns of its cancel within a second.
        const seen = waitingLead(lead, slow, { leaseSeconds: 3, fetch: fetchImpl });
        const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'root' } });
        const childId = await eventually(async () => (await getJob(server, id)).subjobs[0]?.id as string | undefined);
        // The child runs under a lease this test holds and never confirms a cancel: it stays running.
        expect((await claim(server, slow, { lease_seconds: 60 }))[0].job.id).toBe(childId);

        await client.cancelJob(id);
        const caught = await eventually(() => seen.caught);
        expect(caught).not.toBeInstanceOf(AgentJobsError);
        expect(caught).toBeInstanceOf(JobAbortedError);
        expect(caught).toMatchObject({ jobId: id, code: 'cancel_requested' });
        expect(caught).toBe(seen.reason);
        // The child has not ended, so no SubjobFailedError could tell its final state.
        expect(await getJob(server, childId)).toMatchObject({ status: 'running', cancel_requested_at: expect.any(String) });
        const root = await client.waitForJob(id);
        expect(root).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      });
    }

    it("rejects a subjob's wait with the parent's JobAbortedError when the parent's lease is lost", async () => {
      const lead = await createAgent(server, { name: 'lead' });
      const slow = await createAgent(server, { name: 'slow' });
      // A lease of 30 s: no heartbeat for 10 s, so the wait itself is told first that the lease is gone.
      const seen = waitingLead(lead, slow, { leaseSeconds: 30 });
      const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'root' } });
      const childId = await eventually(async () => (await getJob(server, id)).subjobs[0]?.id as string | undefined);
      expect((await claim(server, slow, { lease_seconds: 60 }))[0].job.id).toBe(childId);

      await expireLease(server, id);
      const caught = await eventually(() => seen.caught);
      expect(caught).toBeInstanceOf(JobAbortedError);
      expect(caught).toMatchObject({ jobId: id, code: 'lease_lost' });
      expect(caught).toBe(seen.reason);
      expect(await client.waitForJob(id)).toMatchObject({ status: 'completed', attempt: 2, result: 'second attempt' });
    });

    it('rejects a subjob that ended cancelled with SubjobFailedError when the root is cancelled', async () => {
      const lead = await createAgent(server, { name: 'lead' });
      const idle = await createAgent(server, { name: 'idle' });
      // No worker for `idle`: the child stays queued, and the root's cancel cancels it at once. The parent's
      // lease of 30 s puts its first heartbeat 10 s away, so its wait hears of the child first.
      const seen = waitingLead(lead, idle, { leaseSeconds: 30 });
      const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'root' } });
      await eventually(async () => (await getJob(server, id)).subjobs.length === 1);
      await client.cancelJob(id);
      const caught = await eventually(() => seen.caught);
      expect(caught).toBeInstanceOf(SubjobFailedError);
      expect((caught as SubjobFailedError).job).toMatchObject({ status: 'cancelled', error: { code: 'parent_cancelled' } });
      expect(await client.waitForJob(id)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    });

    it("rejects a stream stopped by the caller's signal with the signal's reason, not network_error", async () => {
      const idle = await createAgent(server, { name: 'idle' });
      const { id } = await client.dispatch({ agent_id: idle.id, brief: { objective: 'stays queued' } });
      for (const [, fetchImpl] of CLIENTS) {
        const viaClient = new AgentJobsClient({ url: server.url, apiKey: server.apiKey, fetch: fetchImpl });
        const controller = new AbortController();
        const reason = new Error('the caller gave up');
        controller.abort(reason);
        await expect(viaClient.waitForJob(id, { signal: controller.signal })).rejects.toBe(reason);
      }
    });

    it('fails a job whose result does not match its output_schema, for good, with a message that is true of a failed job', async () => {
      const lead = await createAgent(server, { name: 'lead' });
      const sloppy = await createAgent(server, { name: 'sloppy' });
      let caught: unknown;
      worker(lead, async (job, ctx) => {
        const child = await ctx.dispatch(sloppy.id, { objective: 'find things', output_schema: FINDINGS_SCHEMA });
        try {
          return await child.result();
        } catch (error) {
          caught = error;
          return 'handled';
        }
      });
      worker(sloppy, () => ({ findings: 'none' }));
      const { id } = await client.dispatch({ agent_id: lead.id, brief: { objective: 'root' } });
      expect((await client.waitForJob(id)).status).toBe('completed');

      // The server's own account of the mismatch, without its advice to complete again (false of a failed job).
      const message = 'result does not match brief.output_schema: result.summary is required; result.findings must be an array.';
      expect(caught).toBeInstanceOf(SubjobFailedError);
      const child = (caught as SubjobFailedError).job;
      expect(child.status).toBe('failed');
      // Exactly what the docs promise a job's error is: a code and a message, nothing else.
      expect(child.error).toEqual({ code: 'output_schema_mismatch', message });
      expect((caught as Error).message).toBe(`Subjob ${child.id} failed: ${message}`);
      // Not retried: the same handler would return the same result.
      expect((await getJob(server, child.id)).attempt).toBe(1);
    });
  });
}

describe('the SDK, when the server cannot be reached', () => {
  for (const [name, fetchImpl] of CLIENTS) {
    it(`still answers network_error (${name})`, async () => {
      // A port that was free a moment ago: nothing listens there.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise((resolve) => probe.close(resolve));

      const unreachable = new AgentJobsClient({ url: `http://127.0.0.1:${port}`, apiKey: 'ak_x', fetch: fetchImpl });
      const error = await unreachable.getJob('job_x').then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(AgentJobsError);
      expect(error).toMatchObject({ status: 0, code: 'network_error', message: expect.stringContaining(`Could not reach http://127.0.0.1:${port}`) });
    });

    it(`answers network_error when the connection breaks in the middle of an answer (${name})`, async () => {
      // Half of the promised body, then the connection is gone.
      const broken = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        response.write('{"id":"job_x",');
        setTimeout(() => response.socket?.destroy(), 20);
      });
      await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = broken.address() as AddressInfo;
        const client = new AgentJobsClient({ url: `http://127.0.0.1:${port}`, apiKey: 'ak_x', fetch: fetchImpl });
        const error = await client.getJob('job_x').then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(AgentJobsError);
        expect(error).toMatchObject({ status: 0, code: 'network_error' });
      } finally {
        await new Promise((resolve) => broken.close(resolve));
      }
    });
  }
});

import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventually } from './support/fixtures.js';
import { AgentJobsClient } from '@agentjobs/sdk/client';

/** Reads a job's SSE stream; resolves when the server closes it. */
function openStream(server: TestServer, jobId: string, init: { lastEventId?: string; include?: boolean; signal?: AbortSignal } = {}) {
  const seen: Array<{ id: string; event: string; data: any }> = [];
  const done = (async () => {
    const url = `${server.url}/v1/jobs/${jobId}/events${init.include ? '?include=subjobs' : ''}`;
    const headers: Record<string, string> = { authorization: `Bearer ${server.apiKey}`, accept: 'text/event-stream' };
    if (init.lastEventId) headers['last-event-id'] = init.lastEventId;
    const response = await fetch(url, { headers, signal: init.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const parser = createParser({ onEvent: (e) => seen.push({ id: e.id!, event: e.event!, data: JSON.parse(e.data) }) });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (error) {
      if (!init.signal?.aborted) throw error;
    }
  })();
  return { seen, done };
}

for (const engine of ENGINES) {
  describe(`events and the live stream (${engine})`, () => {
    let server: TestServer;
    let agent: { id: string; token: string };
    beforeAll(async () => {
      server = await startTestServer(engine);
      agent = await createAgent(server);
    });
    afterAll(() => server.stop());

    const beat = (id: string, lease: string, percent: number) =>
      server.api('POST', `/v1/jobs/${id}/heartbeat`, { lease_token: lease, progress: { percent, message: `at ${percent}` } }, { token: agent.token });

    it('gives a client that connects mid-run every event exactly once, in order, and closes when the job ends', async () => {
      const id = await dispatch(server, agent.id);
      const [item] = await claim(server, agent);
      await beat(id, item.lease.token, 10);
      const stream = openStream(server, id);
      await eventually(() => stream.seen.length === 3);
      for (const p of [20, 30, 40]) await beat(id, item.lease.token, p);
      await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: 'ok' }, { token: agent.token });
      await stream.done;
      const listed = (await server.api('GET', `/v1/jobs/${id}/events`)).body.data;
      expect(stream.seen.map((e) => e.id)).toEqual(listed.map((e: any) => e.id));
      expect(stream.seen.map((e) => e.event)).toEqual(['job.queued', 'job.running', 'job.progress', 'job.progress', 'job.progress', 'job.progress', 'job.completed']);
      const sequences = stream.seen.map((e) => e.data.sequence);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(sequences.length);
    });

    it('resumes after Last-Event-ID with no gap and no duplicate, and ?after= agrees with the stream', async () => {
      const id = await dispatch(server, agent.id);
      const [item] = await claim(server, agent);
      const abort = new AbortController();
      const first = openStream(server, id, { signal: abort.signal });
      await eventually(() => first.seen.length === 2);
      abort.abort();
      await first.done;
      for (const p of [50, 60]) await beat(id, item.lease.token, p);
      const second = openStream(server, id, { lastEventId: first.seen.at(-1)!.id });
      await eventually(() => second.seen.length === 2);
      await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: 'ok' }, { token: agent.token });
      await second.done;
      const all = (await server.api('GET', `/v1/jobs/${id}/events`)).body.data.map((e: any) => e.id);
      expect([...first.seen, ...second.seen].map((e) => e.id)).toEqual(all);
      const after = (await server.api('GET', `/v1/jobs/${id}/events?after=${first.seen[1].id}`)).body.data.map((e: any) => e.id);
      expect(after).toEqual(second.seen.map((e) => e.id));
    });

    it("streams a tree's events with include=subjobs and closes only when every descendant is finished", async () => {
      const root = await dispatch(server, agent.id);
      const [parent] = await claim(server, agent);
      const child = await server.api('POST', `/v1/jobs/${root}/subjobs`, { lease_token: parent.lease.token, agent_id: agent.id, brief: { objective: 'child' }, on_parent_end: 'continue' }, { token: agent.token });
      const stream = openStream(server, root, { include: true });
      await server.api('POST', `/v1/jobs/${root}/complete`, { lease_token: parent.lease.token, result: 'parent done' }, { token: agent.token });
      await eventually(() => stream.seen.some((e) => e.event === 'job.completed'));
      const [c] = await claim(server, agent);
      expect(c.job.id).toBe(child.body.id);
      await server.api('POST', `/v1/jobs/${c.job.id}/complete`, { lease_token: c.lease.token, result: 'child done' }, { token: agent.token });
      await stream.done;
      const jobs = new Set(stream.seen.map((e) => e.data.job_id));
      expect(jobs).toEqual(new Set([root, child.body.id]));
      expect(stream.seen.filter((e) => e.event === 'job.completed')).toHaveLength(2);
    });

    it('reads the stream through the SDK client and waits for a job', async () => {
      const client = new AgentJobsClient({ url: server.url, apiKey: server.apiKey });
      const { id } = await client.dispatch({ agent_id: agent.id, brief: { objective: 'sdk' } });
      const events: string[] = [];
      const reading = (async () => {
        for await (const event of client.streamEvents(id)) events.push(event.type);
      })();
      const waiting = client.waitForJob(id);
      const [item] = await claim(server, agent);
      await server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: { via: 'sdk' } }, { token: agent.token });
      expect((await waiting).result).toEqual({ via: 'sdk' });
      await reading;
      expect(events).toEqual(['job.queued', 'job.running', 'job.completed']);
    });
  });
}

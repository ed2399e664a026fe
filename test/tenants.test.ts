import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { dumpDatabase } from './support/dump.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventually } from './support/fixtures.js';
import { createKeyForTenant } from '../src/jobs/tenants.js';

for (const engine of ENGINES) {
  describe(`tenants are isolated (${engine})`, () => {
    let server: TestServer;
    let receiver: Server;
    let a: { key: string; agent: { id: string; token: string }; job: string; child: string; lease: string; message: string; event: string; keyId: string; tokenId: string };
    let b: { key: string; agent: { id: string; token: string }; job: string; lease: string };

    beforeAll(async () => {
      server = await startTestServer(engine);
      receiver = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
      await new Promise((r) => receiver.once('listening', r));
      const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

      const agentA = await createAgent(server, { name: 'a-agent' });
      const jobA = await dispatch(server, agentA.id, { observers: [{ type: 'webhook', url: hook }] });
      const leaseA = (await claim(server, agentA))[0].lease.token;
      const childA = await server.api('POST', `/v1/jobs/${jobA}/subjobs`, { lease_token: leaseA, agent_id: agentA.id, brief: { objective: 'child' } }, { token: agentA.token });
      const deliveries = await eventually(async () => {
        const res = await server.api('GET', `/v1/jobs/${jobA}/deliveries`);
        return res.body.data.length > 0 ? res.body.data : null;
      });
      const events = await server.api('GET', `/v1/jobs/${jobA}/events`);
      const keys = await server.api('GET', '/v1/keys');
      const tokens = await server.api('GET', `/v1/agents/${agentA.id}/worker-tokens`);
      a = {
        key: server.apiKey,
        agent: agentA,
        job: jobA,
        child: childA.body.id,
        lease: leaseA,
        message: deliveries[0].id,
        event: events.body.data[0].id,
        keyId: keys.body.data[0].id,
        tokenId: tokens.body.data[0].id,
      };

      const other = await createKeyForTenant(server.store, 'other', null);
      const asB = (method: string, path: string, body?: unknown) => call(server.url, method, path, body, { token: other.key });
      const agentB = await asB('POST', '/v1/agents', { name: 'b-agent' });
      const jobB = await asB('POST', '/v1/jobs', { agent_id: agentB.body.id, brief: { objective: 'b' } });
      const claimB = await call(server.url, 'POST', `/v1/agents/${agentB.body.id}/claim`, {}, { token: agentB.body.worker_token });
      b = { key: other.key, agent: { id: agentB.body.id, token: agentB.body.worker_token }, job: jobB.body.id, lease: claimB.body.jobs[0].lease.token };
    });
    afterAll(async () => {
      receiver.close();
      await server.stop();
    });

    it("answers 404 on every client route that takes an id of another tenant's object", async () => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', `/v1/jobs/${a.job}`],
        ['GET', `/v1/jobs/${a.child}`],
        ['POST', `/v1/jobs/${a.job}/cancel`],
        ['GET', `/v1/jobs/${a.job}/events`],
        ['GET', `/v1/jobs/${a.job}/deliveries`],
        ['POST', `/v1/deliveries/${a.message}/retry`],
        ['GET', `/v1/agents/${a.agent.id}`],
        ['PATCH', `/v1/agents/${a.agent.id}`, { name: 'stolen' }],
        ['DELETE', `/v1/agents/${a.agent.id}`],
        ['POST', `/v1/agents/${a.agent.id}/worker-tokens`, {}],
        ['GET', `/v1/agents/${a.agent.id}/worker-tokens`],
        ['DELETE', `/v1/agents/${a.agent.id}/worker-tokens/${a.tokenId}`],
        ['DELETE', `/v1/keys/${a.keyId}`],
        ['POST', '/v1/jobs', { agent_id: a.agent.id, brief: { objective: 'x' } }],
      ];
      const wrong: string[] = [];
      for (const [method, path, body] of routes) {
        const res = await call(server.url, method, path, body, { token: b.key });
        if (res.status !== 404) wrong.push(`${method} ${path}: ${res.status}`);
      }
      expect(wrong).toEqual([]);
      // The same body as for an id that never existed: nothing reveals that the object exists.
      const theirs = await call(server.url, 'GET', `/v1/jobs/${a.job}`, undefined, { token: b.key });
      const nobody = await call(server.url, 'GET', `/v1/jobs/job_01hxyz0000000000000000000a`, undefined, { token: b.key });
      expect(theirs.body.error.code).toBe(nobody.body.error.code);
    });

    it("answers 404 on every worker route that takes an id of another tenant's object", async () => {
      const routes: Array<[string, unknown]> = [
        [`/v1/agents/${a.agent.id}/claim`, {}],
        [`/v1/jobs/${a.job}/heartbeat`, { lease_token: a.lease }],
        [`/v1/jobs/${a.job}/complete`, { lease_token: a.lease, result: 1 }],
        [`/v1/jobs/${a.job}/fail`, { lease_token: a.lease, error: { message: 'x' } }],
        [`/v1/jobs/${a.job}/subjobs`, { lease_token: a.lease, agent_id: b.agent.id, brief: { objective: 'x' } }],
        [`/v1/jobs/${a.job}/tool-calls`, { lease_token: a.lease, tool: 't' }],
        [`/v1/jobs/${a.job}/subjobs/${a.child}/wait`, { lease_token: a.lease, wait_seconds: 0 }],
        [`/v1/jobs/${a.job}/subjobs/${a.child}/cancel`, { lease_token: a.lease }],
        [`/v1/jobs/${b.job}/subjobs`, { lease_token: b.lease, agent_id: a.agent.id, brief: { objective: 'x' } }],
      ];
      const wrong: string[] = [];
      for (const [path, body] of routes) {
        const res = await call(server.url, 'POST', path, body, { token: b.agent.token });
        if (res.status !== 404) wrong.push(`${path}: ${res.status} ${res.body?.error?.code}`);
      }
      expect(wrong).toEqual([]);
    });

    it("never lists another tenant's objects, even when filters name them", async () => {
      for (const query of [`agent_id=${a.agent.id}`, `root_job_id=${a.job}`, `parent_job_id=${a.job}`, '']) {
        const res = await call(server.url, 'GET', `/v1/jobs?${query}`, undefined, { token: b.key });
        expect(res.body.data.map((j: any) => j.id).filter((id: string) => id !== b.job)).toEqual([]);
      }
      const agents = await call(server.url, 'GET', '/v1/agents', undefined, { token: b.key });
      expect(agents.body.data.map((x: any) => x.id)).toEqual([b.agent.id]);
      const events = await call(server.url, 'GET', `/v1/jobs/${b.job}/events?after=${a.event}`, undefined, { token: b.key });
      expect(events.status).toBe(400);
      expect(events.body.error.code).toBe('invalid_cursor');
    });

    it("never hands one tenant's queued job to another tenant's worker", async () => {
      await dispatch(server, a.agent.id);
      const res = await call(server.url, 'POST', `/v1/agents/${b.agent.id}/claim`, { max_jobs: 10 }, { token: b.agent.token });
      expect(res.body.jobs).toEqual([]);
    });

    it('stores API keys and worker tokens only as hashes (a dump of the database has none of them)', async () => {
      const dump = await dumpDatabase(server);
      expect(dump.length).toBeGreaterThan(1000);
      for (const secret of [a.key, b.key, a.agent.token, b.agent.token]) {
        expect(dump.includes(secret)).toBe(false);
        expect(dump.includes(secret.slice(4, 40))).toBe(false);
      }
    });

    it('keeps idempotency keys per tenant', async () => {
      const first = await call(server.url, 'POST', '/v1/jobs', { agent_id: a.agent.id, brief: { objective: 'same' } }, { token: a.key, headers: { 'idempotency-key': 'same-key' } });
      const second = await call(server.url, 'POST', '/v1/jobs', { agent_id: b.agent.id, brief: { objective: 'same' } }, { token: b.key, headers: { 'idempotency-key': 'same-key' } });
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.body.id).not.toBe(first.body.id);
    });
  });
}

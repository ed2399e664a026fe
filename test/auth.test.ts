import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createAgent } from './support/fixtures.js';

for (const engine of ENGINES) {
  describe(`keys and tokens (${engine})`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
    });
    afterAll(() => server.stop());

    it('shows a new API key once, lists keys without it, and revokes a key at once — even one just used', async () => {
      const created = await server.api('POST', '/v1/keys', { name: 'ci' });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^ak_/);
      expect((await server.api('GET', '/v1/jobs', undefined, { token: created.body.key })).status).toBe(200);
      const listed = await server.api('GET', '/v1/keys');
      expect(listed.text).not.toContain(created.body.key);
      expect(listed.body.data.find((k: any) => k.id === created.body.id)).toMatchObject({ name: 'ci', revoked_at: null });
      const revoked = await server.api('DELETE', `/v1/keys/${created.body.id}`);
      expect(revoked.body.revoked_at).not.toBeNull();
      const after = await server.api('GET', '/v1/jobs', undefined, { token: created.body.key });
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthenticated');
    });

    it('replays a key creation with the same Idempotency-Key without showing the key again', async () => {
      const first = await server.api('POST', '/v1/keys', { name: 'once' }, { headers: { 'idempotency-key': 'key-1' } });
      const again = await server.api('POST', '/v1/keys', { name: 'once' }, { headers: { 'idempotency-key': 'key-1' } });
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.key).toBeNull();
    });

    it('issues more worker tokens, keeps old ones valid until revoked, and revokes at once', async () => {
      const agent = await createAgent(server);
      const second = await server.api('POST', `/v1/agents/${agent.id}/worker-tokens`);
      expect(second.body.token).toMatch(/^awt_/);
      const claim = (token: string) => server.api('POST', `/v1/agents/${agent.id}/claim`, {}, { token });
      expect((await claim(agent.token)).status).toBe(200);
      expect((await claim(second.body.token)).status).toBe(200);
      const tokens = await server.api('GET', `/v1/agents/${agent.id}/worker-tokens`);
      expect(tokens.body.data).toHaveLength(2);
      expect(tokens.text).not.toContain(second.body.token);
      await server.api('DELETE', `/v1/agents/${agent.id}/worker-tokens/${second.body.id}`);
      expect((await claim(second.body.token)).status).toBe(401);
      expect((await claim(agent.token)).status).toBe(200);
    });

    it('stops the worker tokens of a deleted agent at once, and refuses to delete an agent with running jobs', async () => {
      const agent = await createAgent(server);
      const job = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' } });
      const claimed = await server.api('POST', `/v1/agents/${agent.id}/claim`, {}, { token: agent.token });
      const refused = await server.api('DELETE', `/v1/agents/${agent.id}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('agent_has_running_jobs');
      await server.api('POST', `/v1/jobs/${job.body.id}/complete`, { lease_token: claimed.body.jobs[0].lease.token, result: 1 }, { token: agent.token });
      const queued = await server.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'never runs' } });
      expect((await server.api('DELETE', `/v1/agents/${agent.id}`)).status).toBe(204);
      expect((await server.api('POST', `/v1/agents/${agent.id}/claim`, {}, { token: agent.token })).status).toBe(401);
      expect((await server.api('GET', `/v1/jobs/${queued.body.id}`)).body).toMatchObject({ status: 'failed', error: { code: 'agent_deleted' } });
      expect((await server.api('GET', `/v1/agents/${agent.id}`)).status).toBe(404);
    });

    it('writes the first key to admin.key with mode 0600', async () => {
      const { statSync, readFileSync } = await import('node:fs');
      const path = `${server.dataDir}/admin.key`;
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8').trim()).toBe(server.apiKey);
    });
  });
}

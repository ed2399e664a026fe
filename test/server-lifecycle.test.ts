import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, engineOptions } from './support/engines.js';
import { call, startTestServer } from './support/server.js';
import { spawnServer } from './support/process.js';

/** The built command, as users run it. */
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

for (const engine of ENGINES) {
  describe(`the server around the API (${engine})`, () => {
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    // On PostgreSQL the data dir still holds admin.key; the data itself is in the database made for that dir.
    const databaseArgs = async (dataDir: string) => {
      const { databaseUrl } = await engineOptions(engine, dataDir);
      return databaseUrl ? ['--database-url', databaseUrl] : [];
    };
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('serves an OpenAPI 3.1 document generated from the request schemas, and a docs page', async () => {
      const server = await startTestServer(engine);
      cleanup.push(() => server.stop());
      const doc = (await call(server.url, 'GET', '/openapi.json')).body;
      expect(doc.openapi).toBe('3.1.0');
      for (const path of ['/v1/jobs', '/v1/jobs/{job_id}', '/v1/jobs/{job_id}/cancel', '/v1/jobs/{job_id}/events', '/v1/agents/{agent_id}/claim', '/v1/jobs/{job_id}/heartbeat', '/v1/jobs/{job_id}/complete', '/v1/jobs/{job_id}/fail', '/v1/jobs/{job_id}/subjobs', '/v1/agents', '/v1/keys', '/v1/webhook-secret']) {
        expect(Object.keys(doc.paths), path).toContain(path);
      }
      const dispatch = doc.paths['/v1/jobs'].post;
      const body = dispatch.requestBody.content['application/json'].schema;
      expect(body.required).toEqual(expect.arrayContaining(['agent_id', 'brief']));
      expect(body.properties.brief.required).toEqual(['objective']);
      expect(Object.keys(dispatch.responses)).toContain('202');
      const docs = await fetch(`${server.url}/docs/`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('<html');
    });

    it('answers health and readiness probes', async () => {
      const server = await startTestServer(engine);
      cleanup.push(() => server.stop());
      expect((await call(server.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
      expect((await call(server.url, 'GET', '/readyz')).body).toEqual({ status: 'ready' });
    });

    it('shuts down gracefully on SIGTERM: waiting claims end at once, in-flight requests finish, the process exits 0', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-term-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const server = await spawnServer(dataDir, await databaseArgs(dataDir));
      cleanup.push(() => server.kill());
      const agent = await call(server.url, 'POST', '/v1/agents', { name: 'w' }, { token: server.apiKey });
      const started = Date.now();
      const waiting = call(server.url, 'POST', `/v1/agents/${agent.body.id}/claim`, { wait_seconds: 25 }, { token: agent.body.worker_token });
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      const answer = await waiting;
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ jobs: [] });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await exited).toBe(0);
      expect(server.stderr()).toContain('SIGTERM');
    });

    it('exits 1 by itself when its port is in use, naming the address and --port; the server on that port keeps serving', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-port-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const args = await databaseArgs(dataDir);
      const first = await spawnServer(dataDir, args);
      cleanup.push(() => first.kill());
      const { port } = new URL(first.url);
      // The same data dir (and database): the second process must not run its loops against it, nor hang.
      const second = spawn(process.execPath, [CLI, 'serve', '--port', port, '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      second.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const started = Date.now();
      const exited = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
      cleanup.push(async () => {
        if (second.exitCode === null && second.signalCode === null) second.kill('SIGKILL');
        await exited;
      });
      let bound: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'running'>((resolve) => (bound = setTimeout(() => resolve('running'), 10_000)))]);
      clearTimeout(bound);
      expect(code, `still running after 10 s; stderr:\n${stderr}`).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(stderr).toContain(`127.0.0.1:${port} is already in use`);
      expect(stderr).toContain('--port');
      expect(stderr).not.toContain('listening on');
      expect((await call(first.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    }, 30_000);

    it('keeps its data and its first key across restarts (the key is created only once)', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-restart-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const first = await spawnServer(dataDir, await databaseArgs(dataDir));
      const agent = await call(first.url, 'POST', '/v1/agents', { name: 'kept' }, { token: first.apiKey });
      first.child.kill('SIGTERM');
      await new Promise((r) => first.child.once('exit', r));
      const second = await spawnServer(dataDir, await databaseArgs(dataDir));
      cleanup.push(() => second.kill());
      expect(second.apiKey).toBe(first.apiKey);
      expect(second.stderr()).not.toContain('created the first API key');
      expect((await call(second.url, 'GET', `/v1/agents/${agent.body.id}`, undefined, { token: second.apiKey })).status).toBe(200);
    });
  });
}

describe('AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  const loopbackObserver = async (value: string) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-private-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await spawnServer(dataDir, [], { AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS: value }, { privateWebhooks: false });
    cleanup.push(() => server.kill());
    const agent = await call(server.url, 'POST', '/v1/agents', { name: 'a' }, { token: server.apiKey });
    const body = { agent_id: agent.body.id, brief: { objective: 'x' }, observers: [{ type: 'webhook', url: 'http://127.0.0.1:9/h' }] };
    return (await call(server.url, 'POST', '/v1/jobs', body, { token: server.apiKey })).status;
  };

  it('is off for false, 0, no and empty — the address guard stays on — and on for true', async () => {
    for (const value of ['false', '0', 'no', '']) expect(await loopbackObserver(value), `=${value}`).toBe(400);
    expect(await loopbackObserver('true')).toBe(202);
  }, 60_000);

  it('refuses a value that is neither yes nor no, instead of guessing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-private-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    await expect(spawnServer(dataDir, [], { AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS: 'maybe' }, { privateWebhooks: false })).rejects.toThrow(
      /server exited with 1:[\s\S]*AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS must be true or false \(or 1\/0, yes\/no, on\/off\), not 'maybe'/,
    );
  });
});

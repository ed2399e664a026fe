import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, engineOptions } from './support/engines.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventually, getJob } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { spawnServer } from './support/process.js';
import { verifyWebhook } from '@agentjobs/sdk/webhooks';

/** Runs a job through the worker protocol to completion. */
async function runToCompletion(server: TestServer, agent: { id: string; token: string }, result: unknown = { ok: true }) {
  const [item] = await claim(server, agent);
  const res = await server.api('POST', `/v1/jobs/${item.job.id}/complete`, { lease_token: item.lease.token, result }, { token: agent.token });
  expect(res.status).toBe(200);
  return item.job.id as string;
}

for (const engine of ENGINES) {
  describe(`webhook observers (${engine})`, () => {
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });
    async function server(options: Parameters<typeof startTestServer>[1] = {}) {
      const s = await startTestServer(engine, options);
      cleanup.push(() => s.stop());
      return s;
    }
    async function receiver() {
      const r = await new Receiver().start();
      cleanup.push(() => r.stop());
      return r;
    }

    it('signs every delivery so that the standardwebhooks library verifies it, with the body of SPEC §5.2', async () => {
      const s = await server();
      const hook = await receiver();
      const own = await receiver();
      const agent = await createAgent(s);
      const ownSecret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
      const id = await dispatch(s, agent.id, {
        observers: [
          { type: 'webhook', url: hook.url },
          { type: 'webhook', url: own.url, events: ['completed'], secret: ownSecret },
        ],
      });
      await runToCompletion(s, agent, { answer: 42 });
      await eventually(() => hook.received.length === 2 && own.received.length === 1);
      const { secret } = (await s.api('GET', '/v1/webhook-secret')).body;
      const lib = new Webhook(secret);
      // Delivery order is not guaranteed (docs/webhooks.md): receivers order by data.sequence.
      const [running, completed] = [...hook.received].sort((a, b) => a.json.data.sequence - b.json.data.sequence);
      for (const r of hook.received) {
        expect(lib.verify(r.body, r.headers)).toBeTruthy();
        expect(verifyWebhook(secret, r.headers, r.body)).toBeTruthy();
        expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-hjkmnp-tv-z]{26}$/);
        expect(r.headers['content-type']).toContain('application/json');
      }
      expect(running.json).toMatchObject({ type: 'job.running', data: { observer_job_id: id, sequence: 1, job: { id, status: 'running' } } });
      expect(completed.json).toMatchObject({ type: 'job.completed', data: { observer_job_id: id, sequence: 2, job: { id, status: 'completed', result: { answer: 42 } } } });
      expect(completed.json.timestamp).toMatch(/Z$/);
      expect(new Webhook(ownSecret).verify(own.received[0].body, own.received[0].headers)).toBeTruthy();
      expect(() => lib.verify(own.received[0].body, own.received[0].headers)).toThrow();
    });

    it('delivers every message to a receiver that refuses, fails and times out for a while, with the same webhook-id on every retry', async () => {
      const s = await server({ webhookRetrySchedule: '100ms,150ms,200ms,300ms,500ms,800ms,1s,1s', webhookTimeout: '300ms' });
      const hook = await receiver();
      const port = hook.port;
      const agent = await createAgent(s);
      // Phase 1: the endpoint is down (connection refused).
      await hook.stop();
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push(await dispatch(s, agent.id, { observers: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook` }] }));
      for (let i = 0; i < 8; i++) await runToCompletion(s, agent);
      await new Promise((r) => setTimeout(r, 400));
      // Phase 2: it is back but answers 500 or hangs past the timeout, then recovers.
      const flakyUntil = Date.now() + 1200;
      hook.behave = (_req, n) => (Date.now() > flakyUntil ? 200 : n % 2 === 0 ? 500 : 'hang');
      await hook.start(port);
      const messageIds = new Set<string>();
      for (const id of ids) {
        const res = await s.api('GET', `/v1/jobs/${id}/deliveries`);
        for (const m of res.body.data) messageIds.add(m.id);
      }
      expect(messageIds.size).toBe(16);
      await eventually(async () => {
        const ok = hook.received.filter((r) => r.at > flakyUntil).map((r) => r.headers['webhook-id']);
        return [...messageIds].every((m) => ok.includes(m));
      }, 20_000);
      // Nothing but our messages arrived, each under its own stable id, and nothing was lost.
      expect([...hook.byId().keys()].every((k) => messageIds.has(k))).toBe(true);
      // The receiver counts a message as its answer leaves; the server records the attempt a moment later.
      const log = await eventually(async () => {
        const res = await s.api('GET', `/v1/jobs/${ids[0]}/deliveries`);
        return res.body.data.every((m: any) => m.status === 'delivered') ? res : null;
      });
      for (const message of log.body.data) {
        expect(message.status).toBe('delivered');
        expect(message.attempts.length).toBeGreaterThan(1);
        expect(message.attempts.at(-1)).toMatchObject({ outcome: 'ok', status_code: 200 });
        expect(message.attempts.some((a: any) => a.outcome === 'connection_error')).toBe(true);
      }
      const outcomes = new Set(log.body.data.flatMap((m: any) => m.attempts.map((a: any) => a.outcome)));
      const all = new Set<string>();
      for (const id of ids) for (const m of (await s.api('GET', `/v1/jobs/${id}/deliveries`)).body.data) for (const a of m.attempts) all.add(a.outcome);
      expect(all).toEqual(new Set(['connection_error', 'http_status', 'timeout', 'ok']));
      expect(outcomes.has('ok')).toBe(true);
    });

    it('does not let a receiver that never answers delay deliveries to a healthy one, nor claims and completions', async () => {
      // The dead endpoint holds each request for the whole 30 s timeout; everything else must be done long before.
      const s = await server({ webhookTimeout: '30s' });
      const dead = await receiver();
      dead.behave = () => 'hang';
      const healthy = await receiver();
      const agent = await createAgent(s);
      const started = Date.now();
      for (let i = 0; i < 30; i++) {
        await dispatch(s, agent.id, { observers: [{ type: 'webhook', url: dead.url }, { type: 'webhook', url: healthy.url }] });
      }
      for (let i = 0; i < 30; i++) await runToCompletion(s, agent);
      const workDone = Date.now() - started;
      await eventually(() => healthy.received.length === 60, 15_000);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(workDone).toBeLessThan(15_000);
      expect(healthy.received.every((r) => r.at - started < 15_000)).toBe(true);
      // The hanging endpoint holds at most its own connection slots.
      expect(dead.connections).toBeLessThanOrEqual(10);
    });

    it('stops sending to an observer whose endpoint answers 410 Gone', async () => {
      const s = await server();
      const gone = await receiver();
      gone.behave = () => 410;
      const agent = await createAgent(s);
      const id = await dispatch(s, agent.id, { observers: [{ type: 'webhook', url: gone.url }] });
      const [item] = await claim(s, agent);
      await eventually(() => gone.received.length === 1);
      await s.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result: 1 }, { token: agent.token });
      await eventually(async () => (await s.api('GET', `/v1/jobs/${id}/deliveries`)).body.data.every((m: any) => m.status === 'failed'));
      expect(gone.received.length).toBe(1);
    });

    it('shows every attempt in the delivery log and sends a failed message again on request', async () => {
      const s = await server({ webhookRetrySchedule: '50ms' });
      const hook = await receiver();
      hook.behave = () => 503;
      const agent = await createAgent(s);
      const id = await dispatch(s, agent.id, { observers: [{ type: 'webhook', url: hook.url, events: ['running'] }] });
      await claim(s, agent);
      const failed = await eventually(async () => {
        const [m] = (await s.api('GET', `/v1/jobs/${id}/deliveries`)).body.data;
        return m?.status === 'failed' ? m : null;
      });
      expect(failed.attempts).toHaveLength(2);
      expect(failed.attempts[0]).toMatchObject({ status_code: 503, outcome: 'http_status' });
      expect(failed.attempts[0].latency_ms).toBeGreaterThanOrEqual(0);
      hook.behave = () => 204;
      const retry = await s.api('POST', `/v1/deliveries/${failed.id}/retry`);
      expect(retry.status).toBe(202);
      await eventually(async () => (await s.api('GET', `/v1/jobs/${id}/deliveries`)).body.data[0].status === 'delivered');
      expect(new Set(hook.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([failed.id]));
    });

    it('signs with the old and the new secret from the first delivery after a rotation', async () => {
      const s = await server();
      const hook = await receiver();
      const agent = await createAgent(s);
      const observers = [{ type: 'webhook', url: hook.url, events: ['running'] }];
      const old = (await s.api('GET', '/v1/webhook-secret')).body.secret;
      // A delivery before the rotation: the delivery loop now holds the tenant's secrets in memory.
      await dispatch(s, agent.id, { observers });
      await claim(s, agent);
      await eventually(() => hook.received.length === 1);
      expect(hook.received[0].headers['webhook-signature'].split(' ')).toHaveLength(1);
      const rotated = (await s.api('POST', '/v1/webhook-secret/rotate')).body;
      expect(rotated.secret).not.toBe(old);
      expect(rotated.previous_secret_expires_at).not.toBeNull();
      // At once, not once the copy in memory has aged: a receiver that switched already must verify it.
      await dispatch(s, agent.id, { observers });
      await claim(s, agent);
      await eventually(() => hook.received.length === 2);
      const r = hook.received[1];
      expect(r.headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(new Webhook(old).verify(r.body, r.headers)).toBeTruthy();
      expect(new Webhook(rotated.secret).verify(r.body, r.headers)).toBeTruthy();
    });

    it('delivers a message after the server was killed between the transition and its delivery', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-outbox-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const hook = await receiver();
      const port = hook.port;
      await hook.stop();
      const db = await engineOptions(engine, dataDir);
      const args = ['--webhook-retry-schedule', '200ms,200ms,200ms,200ms,200ms,200ms', '--webhook-timeout', '1s', ...(db.databaseUrl ? ['--database-url', db.databaseUrl] : [])];
      const first = await spawnServer(dataDir, args);
      cleanup.push(() => first.kill());
      const agent = await call(first.url, 'POST', '/v1/agents', { name: 'a' }, { token: first.apiKey });
      const job = await call(first.url, 'POST', '/v1/jobs', { agent_id: agent.body.id, brief: { objective: 'x' }, observers: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, events: ['completed'] }] }, { token: first.apiKey });
      const claimed = await call(first.url, 'POST', `/v1/agents/${agent.body.id}/claim`, {}, { token: agent.body.worker_token });
      await call(first.url, 'POST', `/v1/jobs/${job.body.id}/complete`, { lease_token: claimed.body.jobs[0].lease.token, result: 'done' }, { token: agent.body.worker_token });
      await first.kill('SIGKILL');
      await hook.start(port);
      const second = await spawnServer(dataDir, args);
      cleanup.push(() => second.kill());
      await eventually(() => hook.received.length >= 1, 15_000);
      expect(hook.received[0].json).toMatchObject({ type: 'job.completed', data: { job: { id: job.body.id, result: 'done' } } });
    });
  });

  describe(`the address guard at dispatch and at delivery (${engine})`, () => {
    let s: TestServer;
    let target: Receiver;
    const cleanup: Array<() => Promise<unknown> | unknown> = [];
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn();
    });

    it('refuses every private, loopback, link-local, metadata or exotic form with 400 webhook_url_not_allowed, and no connection reaches the target', async () => {
      target = await new Receiver().start();
      cleanup.push(() => target.stop());
      const answers: Record<string, string[]> = { 'loopback.test': ['127.0.0.1'], 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'meta.test': ['169.254.169.254'] };
      s = await startTestServer(engine, {
        allowPrivateWebhooks: false,
        resolver: async (host) => (answers[host] ?? ['93.184.216.34']).map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      });
      cleanup.push(() => s.stop());
      const agent = await createAgent(s);
      const p = target.port;
      const forms = [
        `http://127.0.0.1:${p}/`, `http://2130706433:${p}/`, `http://0x7f.1:${p}/`, `http://0x7f000001:${p}/`, `http://0177.0.0.1:${p}/`,
        `http://017700000001:${p}/`, `http://127.1:${p}/`, `http://[::1]:${p}/`, `http://[0:0:0:0:0:0:0:1]:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`,
        `http://[::ffff:7f00:1]:${p}/`, `http://[64:ff9b::7f00:1]:${p}/`, `http://[::127.0.0.1]:${p}/`, `http://0.0.0.0:${p}/`, `http://0:${p}/`,
        `http://[::]:${p}/`, 'http://169.254.169.254/latest/meta-data/', 'http://169.254.169.254./', 'http://[fd00:ec2::254]/', 'http://100.100.100.200/',
        'http://100.64.0.1/', 'http://10.0.0.1/', 'http://172.16.0.1/', 'http://172.31.255.255/', 'http://192.168.1.1/',
        'http://[fc00::1]/', 'http://[fd12:3456::1]/', 'http://[fe80::1]/', 'http://224.0.0.1/', 'http://255.255.255.255/',
        'http://240.0.0.1/', 'http://[ff02::1]/', 'http://192.0.2.1/', 'http://198.51.100.1/', 'http://203.0.113.1/',
        'http://198.18.0.1/', 'http://[2001:db8::1]/', `http://localhost:${p}/`, `http://foo.localhost:${p}/`, `http://evil.test@127.0.0.1:${p}/`,
        `http://loopback.test:${p}/`, 'http://mixed.test/', 'http://meta.test/', 'file:///etc/passwd', 'gopher://127.0.0.1/',
      ];
      const accepted: string[] = [];
      const messages = new Map<string, string>();
      for (const url of forms) {
        const res = await s.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' }, observers: [{ type: 'webhook', url }] });
        if (res.status !== 400 || res.body.error.code !== 'webhook_url_not_allowed') accepted.push(`${url}: ${res.status} ${res.text}`);
        messages.set(url, String(res.body?.error?.message));
      }
      // The way out is named once where it helps (a private address), and not where it would not (metadata, a scheme).
      const hints = (url: string) => messages.get(url)!.split('--allow-private-webhooks').length - 1;
      expect(messages.get(`http://127.0.0.1:${p}/`)).toMatch(/^observers\[0\]\.url: webhook destination 127\.0\.0\.1 is a loopback address; .*\.$/);
      expect(hints(`http://127.0.0.1:${p}/`)).toBe(1);
      expect(hints('http://10.0.0.1/')).toBe(1);
      expect(messages.get('http://169.254.169.254/latest/meta-data/')).toContain('never allowed');
      expect(hints('http://169.254.169.254/latest/meta-data/')).toBe(0);
      expect(hints('file:///etc/passwd')).toBe(0);
      expect(forms.length).toBeGreaterThanOrEqual(35);
      expect(accepted).toEqual([]);
      expect(target.connections).toBe(0);
      expect((await s.api('POST', '/v1/jobs', { agent_id: agent.id, brief: { objective: 'x' }, observers: [{ type: 'webhook', url: 'https://hooks.example.com/x' }] })).status).toBe(202);
    });

    it('checks again at delivery: a name that resolved to a public address at dispatch and to loopback later is never connected to', async () => {
      target = await new Receiver().start();
      cleanup.push(() => target.stop());
      let lookups = 0;
      s = await startTestServer(engine, {
        allowPrivateWebhooks: false,
        webhookRetrySchedule: '50ms',
        resolver: async () => (lookups++ === 0 ? [{ address: '93.184.216.34', family: 4 as const }] : [{ address: '127.0.0.1', family: 4 as const }]),
      });
      cleanup.push(() => s.stop());
      const agent = await createAgent(s);
      const id = await dispatch(s, agent.id, { observers: [{ type: 'webhook', url: `http://rebind.test:${target.port}/hook`, events: ['running'] }] });
      await claim(s, agent);
      const message = await eventually(async () => {
        const [m] = (await s.api('GET', `/v1/jobs/${id}/deliveries`)).body.data;
        return m?.status === 'failed' ? m : null;
      });
      expect(message.attempts.map((a: any) => a.outcome)).toEqual(['blocked_destination', 'blocked_destination']);
      expect(target.connections).toBe(0);
      expect((await getJob(s, id)).status).toBe('running');
    });
  });
}

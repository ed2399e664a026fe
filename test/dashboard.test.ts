import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';
import { call, startTestServer, type TestServer } from './support/server.js';
import { createAgent, eventually } from './support/fixtures.js';
import { pooledFetch } from './support/http-client.js';
import { launchBrowser } from './support/browser.js';

const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');

// The callbacks handed to page.evaluate() and page.waitForFunction() run in the browser, where these exist.
// Declared here rather than adding the DOM library to the whole (Node) project.
declare const document: any;
declare const window: any;
declare const sessionStorage: any;

/** A webhook receiver that answers 500 until told to recover, and remembers the ids it accepted. */
async function startFlakyReceiver() {
  const state = { healthy: false, accepted: [] as string[] };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!state.healthy) return res.writeHead(500, { 'content-type': 'text/plain' }).end('receiver is down (on purpose)');
      state.accepted.push(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { state, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

// A real server, real SDK workers, a real receiver and Debian's Chromium driving the dashboard.
describe('the dashboard, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startFlakyReceiver>>;
  const workers: WorkerHandle[] = [];
  const workerFetch = pooledFetch();
  const agents: Record<string, string> = {};
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const pageErrors: string[] = [];
  const offsite: string[] = [];
  let treeA: string;

  beforeAll(async () => {
    // No retry schedule: a delivery that fails once is `failed` at once, as after its last retry.
    server = await startTestServer('sqlite', { webhookRetrySchedule: [] });
    receiver = await startFlakyReceiver();
    const start = async (name: string, handler: Parameters<typeof runWorker>[0]['handler']) => {
      const agent = await createAgent(server, { name });
      agents[name] = agent.id;
      // Short leases: heartbeats every second, so a cancel reaches the handler within a second.
      workers.push(runWorker({ url: server.url, agentId: agent.id, token: agent.token, handler, leaseSeconds: 3, waitSeconds: 2, concurrency: 4, fetch: workerFetch.fetch, onError: () => {} }));
    };
    await start('helper', async (job, ctx) => {
      ctx.progress(30, 'halfway through');
      ctx.reportTokens(11);
      const stopped = new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
      // Jobs briefed to "hold" run until cancelled; the others until the test releases them.
      await Promise.race([job.brief.context === 'hold' ? new Promise(() => {}) : released, stopped]);
      return { done: job.brief.objective };
    });
    await start('lead', async (job, ctx) => {
      ctx.progress(10, 'handing out the work');
      const children = await Promise.all(['alpha', 'beta'].map((part) => ctx.dispatch(agents.helper, { objective: `part ${part}`, context: job.brief.context })));
      ctx.progress(50, 'waiting for the helpers');
      const results = await Promise.all(children.map((child) => child.result()));
      return { results };
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // The wrong key of the sign-in test is answered 401, which Chromium logs; that one is expected.
      if (message.type() === 'error' && !message.text().includes('status of 401')) pageErrors.push(message.text());
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) offsite.push(request.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    release?.();
    await Promise.all(workers.map((w) => w.stop()));
    await workerFetch.close();
    if (receiver) await new Promise((resolve) => receiver.server.close(resolve));
    await server?.stop();
  });

  it('serves the page and its modules without a key, under a policy that keeps every request on this server', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const app = await fetch(`${server.url}/dashboard/app.js`);
    expect(app.headers.get('content-type')).toMatch(/^text\/javascript/);
    const again = await fetch(`${server.url}/dashboard/app.js`, { headers: { 'if-none-match': app.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await call(server.url, 'GET', '/dashboard/nothing-here.js')).status).toBe(404);
    // The API itself still wants a key.
    expect((await call(server.url, 'GET', '/v1/jobs')).status).toBe(401);
  });

  it('signs in with an API key, refusing a wrong one', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').fill('ak_not_a_real_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await page.getByLabel('API key').fill(server.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('agentjobs.apiKey'))).toBe(server.apiKey);
  });

  it('shows a job tree appear and update live as the workers progress', async () => {
    const dispatched = await server.api('POST', '/v1/jobs', {
      agent_id: agents.lead,
      brief: { objective: 'Build the tree', output_schema: { type: 'object', required: ['results'] } },
      observers: [{ type: 'webhook', url: receiver.url }],
    });
    treeA = dispatched.body.id;
    // The list refreshes on its own: the new job shows up without a reload.
    const row = page.locator(`tr[data-job-id="${treeA}"]`);
    await row.waitFor();
    await row.getByRole('link', { name: 'Build the tree' }).click();
    await page.waitForURL(`**/#/jobs/${treeA}`);

    await page.locator('#stream-state[data-state="live"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#tree .node[data-status="running"]').length === 3);
    // Progress of each helper arrives through its events: both bars at 30 %.
    await page.waitForFunction(() => [...document.querySelectorAll('#tree .node progress')].filter((p: any) => p.value === 30).length === 2);
    expect(await page.locator('#timeline li[data-type="job.subjob_dispatched"]').count()).toBe(2);
    expect(await page.locator('#tree .node').first().textContent()).toContain('lead');

    // The agents page counts the two running helpers.
    await page.getByRole('link', { name: 'Agents' }).click();
    const helperRow = page.locator(`tr[data-agent-id="${agents.helper}"]`);
    await page.waitForFunction((id) => document.querySelector(`tr[data-agent-id="${id}"] [data-count="running"]`)?.textContent === '2', agents.helper);
    expect(await helperRow.locator('[data-count="workers"]').textContent()).toBe('1');
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('#tree .node[data-status="running"]').length === 3);

    release();
    await page.locator('#job-status[data-status="completed"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#tree .node[data-status="completed"]').length === 3);
    const result = JSON.parse((await page.locator('#result').textContent())!);
    expect(result).toEqual({ results: [{ done: 'part alpha' }, { done: 'part beta' }] });
    await page.getByText('Output schema it was held to').click();
    expect(await page.locator('details.schema pre').textContent()).toContain('"required"');
    await page.locator('#stream-state[data-state="ended"]').waitFor();
  });

  it('opens a failed webhook delivery, shows its attempts and retries it', async () => {
    const failed = page.locator('details.delivery[data-status="failed"]');
    await eventually(async () => (await failed.count()) === 6, 20_000, 100);
    const messageId = (await failed.first().getAttribute('data-msg-id'))!;
    const delivery = page.locator(`details.delivery[data-msg-id="${messageId}"]`);
    await delivery.locator('summary').click();
    const attempts = delivery.locator('table.attempts tbody tr');
    expect(await attempts.count()).toBe(1);
    expect(await attempts.first().textContent()).toContain('500');
    expect(await attempts.first().textContent()).toContain('receiver is down (on purpose)');

    receiver.state.healthy = true;
    await delivery.getByRole('button', { name: 'Retry now' }).click();
    await page.locator(`details.delivery[data-msg-id="${messageId}"][data-status="delivered"]`).waitFor();
    expect(await attempts.count()).toBe(2);
    expect(await attempts.nth(1).getAttribute('data-outcome')).toBe('ok');
    // The refresh kept it open, and the receiver really got it.
    expect(await delivery.evaluate((el: any) => el.open)).toBe(true);
    expect(receiver.state.accepted).toContain(messageId);
    expect(await failed.count()).toBe(5);

    mkdirSync(ARTIFACTS, { recursive: true });
    // From the top: a full-page shot of a scrolled page would paint the sticky header half-way down.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'job-page.png'), fullPage: true });
  });

  it('cancels a running tree', async () => {
    const dispatched = await server.api('POST', '/v1/jobs', { agent_id: agents.lead, brief: { objective: 'Hold until cancelled', context: 'hold' } });
    const id = dispatched.body.id as string;
    await page.goto(`${server.url}/#/jobs/${id}`);
    await page.waitForFunction(() => document.querySelectorAll('#tree .node[data-status="running"]').length === 3);

    await page.getByRole('button', { name: 'Cancel job…' }).click();
    await page.getByText('Cancel this job and its 2 unfinished subjobs?').waitFor();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page.locator('#job-status[data-status="cancelled"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#tree .node[data-status="cancelled"]').length === 3);
    await page.locator('#timeline li[data-type="job.cancel_requested"]').first().waitFor();
    expect(await page.getByRole('button', { name: 'Cancel job…' }).count()).toBe(0);

    const job = (await server.api('GET', `/v1/jobs/${id}`)).body;
    expect(job.status).toBe('cancelled');
    expect(job.error.code).toBe('cancelled');
    expect(job.subjobs.map((s: { status: string }) => s.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('fits a phone screen without sideways scrolling, with the job list as cards', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    try {
      // The demo prints a link like this one: it signs in and leaves no key in the address bar.
      await phone.goto(`${server.url}/#key=${server.apiKey}`);
      await phone.locator(`tr[data-job-id="${treeA}"]`).waitFor();
      expect(phone.url()).not.toContain(server.apiKey);
      const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(await overflow()).toBeLessThanOrEqual(0);
      await phone.goto(`${server.url}/#/jobs/${treeA}`);
      await phone.waitForFunction(() => document.querySelectorAll('#tree .node').length === 3);
      expect(await overflow()).toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
    }
  });

  it('keeps the job list and the job page within the screen when an objective is one unbroken word', async () => {
    const long = await server.api('POST', '/v1/jobs', { agent_id: agents.helper, brief: { objective: 'x'.repeat(5000) } });
    expect(long.status).toBe(202);
    await page.goto(`${server.url}/#/`);
    await page.locator(`tr[data-job-id="${long.body.id}"]`).waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.goto(`${server.url}/#/jobs/${long.body.id}`);
    await page.getByText('Objective').first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
  });

  it('made no request to any other host and raised no error in the page', () => {
    expect(offsite).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

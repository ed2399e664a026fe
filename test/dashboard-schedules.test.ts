import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { createAgent, eventually } from './support/fixtures.js';
import { launchBrowser } from './support/browser.js';

// Issue 21: the dashboard's schedules page, in Chromium, against a real server.
describe('the dashboard’s schedules page, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let scheduleId: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite');
    const agent = await createAgent(server, { name: 'reporter' });
    const created = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'Morning report' }, cron: '0 9 * * *', timezone: 'Europe/Paris' });
    scheduleId = created.body.id;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/#key=${server.apiKey}`);
    await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists schedules with their cron, time zone and next run, and pauses, resumes and runs one now', async () => {
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules', exact: true }).waitFor();
    const row = page.locator(`tr[data-schedule-id="${scheduleId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('0 9 * * *');
    expect(await row.textContent()).toContain('Europe/Paris');
    expect(await row.textContent()).toContain('reporter');

    await row.getByRole('button', { name: 'Pause' }).click();
    await row.getByRole('button', { name: 'Resume' }).waitFor();
    expect(await row.locator('[data-field="next"]').textContent()).toBe('paused');
    expect((await server.api('GET', `/v1/schedules/${scheduleId}`)).body.paused).toBe(true);
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByRole('button', { name: 'Pause' }).waitFor();

    await row.getByRole('button', { name: 'Run now' }).click();
    const jobs = await eventually(async () => {
      const list = (await server.api('GET', `/v1/jobs?schedule_id=${scheduleId}`)).body.data;
      return list.length === 1 ? list : null;
    });
    await row.locator(`a[href="#/jobs/${jobs[0].id}"]`).waitFor();
  });

  it("lists a schedule's jobs, cancels every matching job at once, and re-runs a finished one", async () => {
    await page.locator(`tr[data-schedule-id="${scheduleId}"]`).getByRole('button', { name: 'Run now' }).click();
    await eventually(async () => (await server.api('GET', `/v1/jobs?schedule_id=${scheduleId}&status=queued`)).body.data.length === 2);
    await page.goto(`${server.url}/#/jobs?schedule=${scheduleId}&status=queued`);
    const rows = page.locator('tr[data-job-id]');
    await eventually(async () => (await rows.count()) === 2);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel matching' }).click();
    await page.getByRole('status').filter({ hasText: '2 jobs cancelled' }).waitFor();
    expect((await server.api('GET', `/v1/jobs?schedule_id=${scheduleId}&status=cancelled`)).body.data).toHaveLength(2);

    await page.goto(`${server.url}/#/jobs?schedule=${scheduleId}`);
    const cancelled = page.locator('tr[data-job-id][data-status="cancelled"]').first();
    await cancelled.waitFor();
    const original = await cancelled.getAttribute('data-job-id');
    await cancelled.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL((url) => /#\/jobs\/job_/.test(url.hash) && !url.hash.endsWith(original!));
    const id = page.url().split('/').pop()!;
    expect((await server.api('GET', `/v1/jobs/${id}`)).body.rerun_of).toBe(original);
  });
});

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
});

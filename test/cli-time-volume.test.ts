import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { createAgent } from './support/fixtures.js';
import { assertBuilt, cleanEnv, runCli } from './support/cli.js';

// Issue 21: the CLI's schedules, batch, rerun and bulk commands, the built binary against a real server.
describe('the agentjobs CLI for schedules, batches, re-runs and bulk actions', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    server = await startTestServer();
    env = cleanEnv({ AGENTJOBS_URL: server.url, AGENTJOBS_API_KEY: server.apiKey });
    dir = mkdtempSync(join(tmpdir(), 'agentjobs-cli-'));
    await createAgent(server, { name: 'nightly' });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists, pauses, resumes, triggers and deletes a schedule', async () => {
    const created = await runCli(['schedules', 'create', 'nightly', '--cron', '0 2 * * *', '--timezone', 'Europe/Paris', '--objective', 'Nightly report'], env);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^sch_/);
    expect(created.stderr).toContain('next run');
    const list = await runCli(['schedules', 'list'], env);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('Europe/Paris');
    expect((await runCli(['schedules', 'pause', id], env)).stdout).toContain('paused');
    expect((await runCli(['schedules', 'resume', id, '--json'], env)).stdout).toMatch(/"paused": false/);
    const triggered = await runCli(['schedules', 'trigger', id], env);
    expect(triggered.stdout.trim()).toMatch(/^job_/);
    expect((await server.api('GET', `/v1/jobs/${triggered.stdout.trim()}`)).body.schedule_id).toBe(id);
    expect((await runCli(['schedules', 'delete', id], env)).code).toBe(0);
    const bad = await runCli(['schedules', 'create', 'nightly', '--cron', 'nightly', '--objective', 'x'], env);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('cron');
  });

  it('dispatches a JSON Lines file as one batch, re-runs a job and bulk-cancels by agent and status', async () => {
    const file = join(dir, 'jobs.jsonl');
    writeFileSync(file, ['{"agent_id": "nightly", "brief": {"objective": "one"}}', '', '{"agent_id": "nightly", "brief": {"objective": "two"}, "delay_seconds": 60}'].join('\n'));
    const batch = await runCli(['batch', file], env);
    expect(batch.code, batch.stderr).toBe(0);
    const batchId = batch.stdout.trim();
    expect((await server.api('GET', `/v1/batches/${batchId}`)).body.total).toBe(2);
    const listed = await runCli(['list', '--batch', batchId, '--json'], env);
    const [first] = JSON.parse(listed.stdout).data.reverse();
    const rerun = await runCli(['rerun', first.id, '--objective', 'one, again'], env);
    expect((await server.api('GET', `/v1/jobs/${rerun.stdout.trim()}`)).body).toMatchObject({ rerun_of: first.id, brief: { objective: 'one, again' } });
    const cancelled = await runCli(['bulk-cancel', '--status', 'queued', '--agent', 'nightly'], env);
    // The schedule's triggered job, the two of the batch and the re-run.
    expect(cancelled.stdout.trim()).toBe('4 jobs cancelled');
    const none = await runCli(['bulk-cancel'], env);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('at least one filter');
    writeFileSync(file, '{"agent_id": "nightly", "brief": {"objective": ""}}\n');
    const refused = await runCli(['batch', file], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('jobs[0].brief.objective');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropDatabase, ENGINES } from './support/engines.js';
import { call, startTestServer, type TestServer } from './support/server.js';
import { createAgent, eventually } from './support/fixtures.js';
import { forkClockServer, type ClockServer } from './support/clock-process.js';

// Issue 21: schedules (SPEC §11). The server's clock is injected, so hours and daylight-saving changes pass in
// moments: the test sets the time, and the timer sweep (which looks at least every 500 ms) fires what is due.

const MINUTE = 60_000;

/** The local wall time of an instant in a time zone, as "YYYY-MM-DD HH:mm". */
function localTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

for (const engine of ENGINES) {
  describe(`schedules (${engine})`, () => {
    let server: TestServer;
    let agent: { id: string; token: string };
    let offset = 0;
    /** Sets the server's clock to `at` (it runs on from there). */
    const setNow = (at: number) => {
      offset = at - Date.now();
    };

    beforeAll(async () => {
      setNow(Date.parse('2026-03-06T20:00:00Z'));
      server = await startTestServer(engine, { clock: () => Date.now() + offset });
      agent = await createAgent(server, { name: 'scheduled' });
    });
    afterAll(() => server?.stop());

    const jobsOf = async (scheduleId: string) => (await server.api('GET', `/v1/jobs?schedule_id=${scheduleId}&limit=100`)).body.data.reverse();
    /** Moves the clock just past the schedule's next fire and waits for the fire to be handled. */
    async function fire(scheduleId: string): Promise<any> {
      const before = (await server.api('GET', `/v1/schedules/${scheduleId}`)).body;
      setNow(Date.parse(before.next_run_at) + 50);
      return eventually(async () => {
        const after = (await server.api('GET', `/v1/schedules/${scheduleId}`)).body;
        return after.last_run_at === before.next_run_at ? after : null;
      });
    }

    it('refuses a bad cron and an unknown time zone, naming the field', async () => {
      const bad = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'x' }, cron: '61 * * * *' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'invalid_request' });
      expect(bad.body.error.message).toMatch(/^cron '61 \* \* \* \*' is not a cron pattern: .*minute/);
      const six = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'x' }, cron: '0 */5 * * * *' });
      expect(six.body.error.message).toMatch(/^cron .*five fields/);
      const tz = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'x' }, cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' });
      expect(tz.status).toBe(400);
      expect(tz.body.error.message).toMatch(/^timezone 'Mars\/Olympus_Mons' is not an IANA time zone/);
      const overlap = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'x' }, cron: '0 9 * * *', overlap: 'queue' });
      expect(overlap.status).toBe(400);
      expect(overlap.body.error.message).toContain('overlap');
      const unknown = await server.api('POST', '/v1/schedules', { agent_id: 'agt_00000000000000000000000000', brief: { objective: 'x' }, cron: '0 9 * * *' });
      expect(unknown.status).toBe(404);
      expect((await server.api('GET', '/v1/schedules')).body.data).toEqual([]);
    });

    it('creates, reads, lists, pauses, resumes and deletes a schedule, with next_run_at', async () => {
      const created = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'report' }, cron: '*/5 * * * *', metadata: { kind: 'report' } });
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect(created.body).toMatchObject({ cron: '*/5 * * * *', timezone: 'UTC', overlap: 'skip', paused: false, last_run_at: null, metadata: { kind: 'report' } });
      expect(Date.parse(created.body.next_run_at) % (5 * MINUTE)).toBe(0);
      expect((await server.api('GET', `/v1/schedules/${id}`)).body).toEqual(created.body);
      expect((await server.api('GET', '/v1/schedules')).body.data.map((s: any) => s.id)).toContain(id);
      const paused = await server.api('PATCH', `/v1/schedules/${id}`, { paused: true });
      expect(paused.body).toMatchObject({ paused: true, next_run_at: null });
      const resumed = await server.api('PATCH', `/v1/schedules/${id}`, { paused: false, cron: '0 * * * *' });
      expect(resumed.body.paused).toBe(false);
      expect(Date.parse(resumed.body.next_run_at) % (60 * MINUTE)).toBe(0);
      expect((await server.api('PATCH', `/v1/schedules/${id}`, { cron: 'every day' })).status).toBe(400);
      expect((await server.api('DELETE', `/v1/schedules/${id}`)).body).toEqual({ id, deleted: true });
      expect((await server.api('GET', `/v1/schedules/${id}`)).status).toBe(404);
    });

    it('fires at the right local times across a daylight-saving change', async () => {
      // New York moves its clocks forward on 2026-03-08: 09:00 is 14:00Z before, 13:00Z after.
      const res = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'morning' }, cron: '0 9 * * *', timezone: 'America/New_York', overlap: 'allow' });
      expect(res.body.next_run_at).toBe('2026-03-07T14:00:00.000Z');
      for (let i = 0; i < 3; i++) await fire(res.body.id);
      const jobs = await jobsOf(res.body.id);
      expect(jobs.map((j: any) => j.scheduled_for)).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z']);
      expect(jobs.map((j: any) => localTime(j.scheduled_for, 'America/New_York'))).toEqual(['2026-03-07 09:00', '2026-03-08 09:00', '2026-03-09 09:00']);
      // A time that does not exist on the change's day (02:30 is skipped) fires once, at the first time after the gap.
      const gap = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'night' }, cron: '30 2 * * *', timezone: 'Europe/Berlin', overlap: 'allow', paused: true });
      setNow(Date.parse('2026-03-28T12:00:00Z'));
      await server.api('PATCH', `/v1/schedules/${gap.body.id}`, { paused: false });
      for (let i = 0; i < 2; i++) await fire(gap.body.id);
      const nights = (await jobsOf(gap.body.id)).map((j: any) => localTime(j.scheduled_for, 'Europe/Berlin'));
      expect(nights).toEqual(['2026-03-29 03:00', '2026-03-30 02:30']);
    });

    it('skips a fire while the previous job runs (skip), cancels it (cancel_previous), and runs one catch-up for missed fires', async () => {
      const skip = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'skip' }, cron: '* * * * *' });
      await fire(skip.body.id);
      await fire(skip.body.id);
      expect(await jobsOf(skip.body.id)).toHaveLength(1);
      await server.api('POST', `/v1/jobs/bulk-cancel`, { filter: { schedule_id: skip.body.id } });
      await fire(skip.body.id);
      expect(await jobsOf(skip.body.id)).toHaveLength(2);
      await server.api('PATCH', `/v1/schedules/${skip.body.id}`, { paused: true });

      const cancel = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'latest' }, cron: '* * * * *', overlap: 'cancel_previous' });
      await fire(cancel.body.id);
      await fire(cancel.body.id);
      const [first, second] = await jobsOf(cancel.body.id);
      expect(first.status).toBe('cancelled');
      expect(second.status).toBe('queued');
      await server.api('PATCH', `/v1/schedules/${cancel.body.id}`, { paused: true });

      // Ten minutes pass with no fire handled (as when no server runs): one catch-up run, then on schedule.
      const missed = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'missed' }, cron: '* * * * *', overlap: 'allow' });
      const due = Date.parse(missed.body.next_run_at);
      setNow(due + 10 * MINUTE + 30_000);
      const after = await eventually(async () => {
        const s = (await server.api('GET', `/v1/schedules/${missed.body.id}`)).body;
        return s.last_run_at ? s : null;
      });
      expect(await jobsOf(missed.body.id)).toHaveLength(1);
      expect(after.next_run_at).toBe(new Date(due + 11 * MINUTE).toISOString());
      await server.api('PATCH', `/v1/schedules/${missed.body.id}`, { paused: true });
    });

    it('runs once now on trigger, even while paused, with schedule_id on the job', async () => {
      const res = await server.api('POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'on demand' }, cron: '0 0 1 1 *', paused: true });
      const run = await server.api('POST', `/v1/schedules/${res.body.id}/trigger`);
      expect(run.status).toBe(202);
      const job = (await server.api('GET', `/v1/jobs/${run.body.id}`)).body;
      expect(job).toMatchObject({ schedule_id: res.body.id, status: 'queued', brief: { objective: 'on demand' } });
      expect((await server.api('GET', `/v1/schedules/${res.body.id}`)).body.last_job_id).toBe(run.body.id);
      expect((await server.api('POST', '/v1/schedules/sch_00000000000000000000000000/trigger')).status).toBe(404);
    });
  });
}

describe('a schedule on two server processes sharing one PostgreSQL', () => {
  let databaseUrl: string;
  const dirs: string[] = [];
  let servers: ClockServer[] = [];

  beforeAll(async () => {
    if (!ENGINES.includes('postgres')) return;
    databaseUrl = await createDatabase();
    for (let i = 0; i < 2; i++) dirs.push(mkdtempSync(join(tmpdir(), 'agentjobs-sched-')));
    servers = await Promise.all(dirs.map((dir) => forkClockServer(dir, databaseUrl)));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    if (databaseUrl) await dropDatabase(databaseUrl);
  });

  it.runIf(ENGINES.includes('postgres'))('dispatches exactly one job per fire across ten fires, one server killed in the middle', async () => {
    const key = servers.map((s) => s.firstKey).find((k) => k)!;
    const [a, b] = servers;
    const api = (url: string, method: string, path: string, body?: unknown) => call(url, method, path, body, { token: key });
    const agent = (await api(a.url, 'POST', '/v1/agents', { name: 'cron' })).body;
    const schedule = (await api(b.url, 'POST', '/v1/schedules', { agent_id: agent.id, brief: { objective: 'tick' }, cron: '* * * * *', overlap: 'allow' })).body;
    const first = Date.parse(schedule.next_run_at);
    const alive = [a, b];
    for (let i = 0; i < 10; i++) {
      const at = first + i * MINUTE;
      // Both clocks move to just past the fire; each process's sweep finds it due within half a second.
      await Promise.all(alive.map((s) => s.setOffset(at + 20 - Date.now())));
      if (i === 4) {
        // Killed while the fire is due: whichever process took it, the other fires the rest.
        await new Promise((r) => setTimeout(r, 150));
        await a.kill('SIGKILL');
        alive.splice(alive.indexOf(a), 1);
      }
      await eventually(async () => {
        const s = (await api(b.url, 'GET', `/v1/schedules/${schedule.id}`)).body;
        return s.last_run_at === new Date(at).toISOString() ? s : null;
      });
    }
    // A moment more, in which a second fire of any of them would have been dispatched.
    await new Promise((r) => setTimeout(r, 1000));
    const jobs = (await api(b.url, 'GET', `/v1/jobs?schedule_id=${schedule.id}&limit=100`)).body.data;
    const times = jobs.map((j: any) => j.scheduled_for).sort();
    expect(times).toEqual(Array.from({ length: 10 }, (_, i) => new Date(first + i * MINUTE).toISOString()));
  });
});

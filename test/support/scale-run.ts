import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { runWorker, type Job, type JobContext, type WorkerHandle } from '@agentjobs/sdk/worker';
import { verifyWebhook } from '@agentjobs/sdk/webhooks';
import { call } from './server.js';
import type { ServerProcess } from './process.js';

/** One run of many jobs over several `agentjobs serve` processes sharing one PostgreSQL database. */
export interface ScaleRunOptions {
  databaseUrl: string;
  servers: ServerProcess[];
  /** An API key of the tenant. */
  apiKey: string;
  /** Root jobs; each dispatches `childrenPerRoot` subjobs and waits for them. */
  roots: number;
  childrenPerRoot: number;
  /** SDK workers per server, for each of the two agents. */
  workersPerServer: number;
  /** Jobs each worker runs at once. */
  concurrency: number;
  leaseSeconds: number;
  /** `kill -9` one server once this many jobs have completed. */
  crash?: { server: number; afterCompleted: number };
  timeoutMs: number;
  log?: (line: string) => void;
}

/** What a run found. Every count of a problem must be 0. */
export interface ScaleRunReport {
  jobs: number;
  /** From the first dispatch until every job had ended. */
  seconds: number;
  /** From the first dispatch until every webhook message was delivered. */
  webhooksSeconds: number;
  jobsPerSecond: number;
  completed: number;
  /** Jobs that ended failed or cancelled, or never ended. */
  notCompleted: number;
  /** Jobs with more than one `job.completed` event, or more than one accepted complete. */
  duplicateCompletions: number;
  /**
   * Two leases for the same attempt of a job, or a worker that received a lease before the previous holder's
   * lease (as its heartbeats last extended it) had expired or been given up. The workers, the servers and the
   * database run on one host here, so they share one clock.
   */
  overlappingLeases: number;
  /**
   * Leases whose stated start (`expires_at` minus the lease length: the claim's database time) lies before the
   * previous lease's expiry, although they were handed out after it. A claim reads the clock as its write starts,
   * and may then wait for the agent's lock while the old lease expires and is revoked: such a lease is only
   * shorter than asked for. Reported, not a fault.
   */
  stampedEarly: number;
  /** Status changes of a job that break queued → running → (queued → running)* → end. */
  invalidTransitions: number;
  /** Leases beyond each job's first (expired and granted again). */
  reLeases: number;
  /** Jobs leased through the crashed server that never completed there and were completed through another. */
  finishedElsewhere: number;
  /** Webhook messages that were pending when the server was killed. */
  pendingAtCrash: number;
  /** Of those, how many were never delivered. */
  pendingAtCrashUndelivered: number;
  webhookMessages: number;
  /** Messages stored as delivered whose receipt the receiver never saw, or not delivered at all. */
  webhookMissing: number;
  /** Receipts beyond the first of a message (at-least-once delivery; allowed). */
  webhookDuplicates: number;
  webhookBadSignatures: number;
  /** Errors the SDK workers survived (network errors against the killed server, mostly). */
  workerErrors: number;
  /** Error answers the workers got, by route and code (`heartbeat 409 lease_lost` after a lease lapsed…). */
  refusals: Record<string, number>;
}

interface Lease {
  job: string;
  /** The job's attempt this lease is for: each lease of a job has the next one. */
  attempt: number;
  token: string;
  server: number;
  /** The claim's database time (expires_at minus the lease length). */
  grantedAt: number;
  /** When the worker had the claim's answer in hand. */
  receivedAt: number;
  expiresAt: number;
  /** When the worker gave the job up with `fail` (its lease ended there, before it expired). */
  endedAt?: number;
  completes: number;
}

/**
 * Runs the scenario of issue 5's "Must show": SDK workers spread over the servers, root jobs dispatched through
 * all of them with a webhook observer, each root fanning out to subjobs through `ctx.dispatch`. Every claim,
 * heartbeat and complete the workers make is recorded (by wrapping their `fetch`, on the real HTTP traffic),
 * and the database is read at the end, so that the report can tell duplicates and overlapping leases apart
 * from what at-least-once webhooks allow.
 */
export async function runScaleScenario(options: ScaleRunOptions): Promise<ScaleRunReport> {
  // Whatever the run started is stopped, in reverse order, whether it passed or failed half-way.
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    return await scenario(options, (cleanup) => cleanups.unshift(cleanup));
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
  }
}

async function scenario(options: ScaleRunOptions, onCleanup: (cleanup: () => Promise<unknown>) => void): Promise<ScaleRunReport> {
  const { servers, apiKey, leaseSeconds } = options;
  const log = options.log ?? (() => {});
  const db = new pg.Client({ connectionString: options.databaseUrl });
  // The database is dropped after the test; a connection ended that way must not become an uncaught error.
  db.on('error', () => {});
  await db.connect();
  onCleanup(() => db.end());
  const api = (server: number, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call(servers[server].url, method, path, body, { token: apiKey, headers });

  const secret = (await api(0, 'GET', '/v1/webhook-secret')).body.secret as string;
  const receiver = await startReceiver(secret);
  onCleanup(() => receiver.close());
  const [planner, helper] = await Promise.all(
    ['planner', 'helper'].map(async (name) => {
      const res = await api(0, 'POST', '/v1/agents', { name });
      if (res.status !== 201) throw new Error(`create agent: ${res.status} ${res.text}`);
      return { id: res.body.id as string, token: res.body.worker_token as string };
    }),
  );

  // ---- workers, with every lease they are granted recorded -----------------------------------------------
  const leases = new Map<string, Lease>();
  let workerErrors = 0;
  const refusals: Record<string, number> = {};
  const recording =
    (server: number): typeof fetch =>
    async (input, init) => {
      const sentAt = Date.now();
      const response = await fetch(input, init);
      const path = new URL(String(input)).pathname;
      const action = path.slice(path.lastIndexOf('/') + 1);
      if (!response.ok) {
        const error = (await response.clone().json().catch(() => ({}))) as { error?: { code?: string } };
        const key = `${action} ${response.status} ${error.error?.code ?? ''}`.trim();
        refusals[key] = (refusals[key] ?? 0) + 1;
        return response;
      }
      if (action === 'claim') {
        const body = (await response.clone().json()) as { jobs: Array<{ job: Job; lease: { token: string; expires_at: string } }> };
        for (const { job, lease } of body.jobs) {
          const expiresAt = Date.parse(lease.expires_at);
          // expires_at = the claim transaction's database time + the lease asked for: that time is when it was granted.
          leases.set(lease.token, {
            job: job.id,
            attempt: job.attempt,
            token: lease.token,
            server,
            grantedAt: expiresAt - leaseSeconds * 1000,
            receivedAt: Date.now(),
            expiresAt,
            completes: 0,
          });
        }
      } else if (action === 'heartbeat' || action === 'complete' || action === 'fail') {
        const lease = leases.get(JSON.parse(String(init?.body)).lease_token as string);
        if (lease && action === 'complete') lease.completes++;
        // A worker that gives a job up (`fail`, retryable) ends its lease before it expires: the job may be
        // leased again at once. It ended no later than when the request was sent.
        if (lease && action === 'fail') lease.endedAt = sentAt;
        if (lease && action === 'heartbeat') {
          const body = (await response.clone().json()) as { lease: { expires_at: string } };
          lease.expiresAt = Math.max(lease.expiresAt, Date.parse(body.lease.expires_at));
        }
      }
      return response;
    };
  const constraints = { max_attempts: 50 };
  const plannerHandler = async (job: Job, ctx: JobContext) => {
    const handles = [];
    for (let i = 0; i < options.childrenPerRoot; i++) {
      handles.push(await ctx.dispatch(helper.id, { objective: `part ${i} of ${job.id}`, constraints }));
    }
    const parts = await Promise.all(handles.map((h) => h.result<{ part: string }>()));
    return { parts: parts.map((p) => p.part) };
  };
  const helperHandler = async (job: Job) => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
    return { part: job.id };
  };
  const workers: WorkerHandle[] = [];
  onCleanup(() => Promise.all(workers.map((w) => w.stop())));
  for (const [i, server] of servers.entries()) {
    for (let w = 0; w < options.workersPerServer; w++) {
      for (const [agent, handler] of [
        [planner, plannerHandler],
        [helper, helperHandler],
      ] as const) {
        workers.push(
          runWorker({
            url: server.url,
            agentId: agent.id,
            token: agent.token,
            concurrency: options.concurrency,
            leaseSeconds,
            waitSeconds: 5,
            fetch: recording(i),
            onError: () => workerErrors++,
            handler: handler as (job: Job, ctx: JobContext) => Promise<unknown>,
          }),
        );
      }
    }
  }

  // ---- dispatch, through every server; a dispatch to a server that died goes to the next, same key --------
  const expectedJobs = options.roots * (1 + options.childrenPerRoot);
  const started = Date.now();
  let crashed = -1;
  const live = () => servers.map((_, i) => i).filter((i) => i !== crashed);
  let next = 0;
  const dispatchOne = async (n: number) => {
    for (let attempt = 0; ; attempt++) {
      const targets = live();
      const server = targets[(n + attempt) % targets.length];
      try {
        const res = await api(
          server,
          'POST',
          '/v1/jobs',
          { agent_id: planner.id, brief: { objective: `root ${n}`, constraints }, observers: [{ type: 'webhook', url: receiver.url }], metadata: { n: String(n) } },
          { 'idempotency-key': `root-${n}` },
        );
        if (res.status === 202) return;
        if (res.status < 500) throw new Error(`dispatch: ${res.status} ${res.text}`);
      } catch (error) {
        if (attempt > 20) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  let dispatchFailure: unknown = null;
  const dispatching = Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < options.roots) await dispatchOne(next++);
    }),
  ).catch((error: unknown) => {
    dispatchFailure = error;
  });

  // ---- wait for every job to end; kill -9 one server on the way --------------------------------------------
  let pendingAtCrash: string[] = [];
  let leasesAtCrash: Lease[] = [];
  const deadline = started + options.timeoutMs;
  let loggedAt = started;
  for (;;) {
    const { rows } = await db.query<{ done: number; ended: number; total: number }>(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS done,
              count(*) FILTER (WHERE status IN ('completed', 'failed', 'cancelled'))::int AS ended, count(*)::int AS total
         FROM jobs WHERE agent_id IN ($1, $2)`,
      [planner.id, helper.id],
    );
    const { done, ended, total } = rows[0];
    const progress = `${done}/${expectedJobs} completed`;
    if (Date.now() - loggedAt >= 5000) {
      log(progress);
      loggedAt = Date.now();
    }
    if (options.crash && crashed < 0 && done >= options.crash.afterCompleted) {
      crashed = options.crash.server;
      await servers[crashed].kill('SIGKILL');
      leasesAtCrash = [...leases.values()].filter((l) => l.server === crashed && l.completes === 0);
      pendingAtCrash = (await db.query<{ id: string }>("SELECT id FROM webhook_messages WHERE status = 'pending'")).rows.map((r) => r.id);
      log(`killed server ${crashed} (kill -9) at ${done} completed jobs: ${leasesAtCrash.length} leases held through it, ${pendingAtCrash.length} webhook messages pending`);
    }
    if (dispatchFailure) throw dispatchFailure;
    if (total === expectedJobs && ended === expectedJobs) break;
    if (Date.now() > deadline) throw new Error(`the run did not finish in time: ${progress}, ${ended} ended, ${total} stored`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await dispatching;
  const seconds = (Date.now() - started) / 1000;
  log(`${expectedJobs} jobs ended in ${seconds.toFixed(1)} s`);

  // ---- every webhook message delivered (the killed server's claimed ones after their lock expires) ---------
  for (;;) {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_messages WHERE status <> 'delivered'");
    if (rows[0].n === 0) break;
    if (Date.now() > deadline + 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const webhooksSeconds = (Date.now() - started) / 1000;
  log(`webhook messages settled after ${webhooksSeconds.toFixed(1)} s; stopping the workers`);
  // Stopped now (again at cleanup, harmlessly): the counts below must not move any more.
  await Promise.all(workers.map((w) => w.stop()));
  log('workers stopped');

  // ---- what the database says --------------------------------------------------------------------------------
  // This run's jobs only: other tests may have used the same database.
  const jobs = (await db.query<{ id: string; status: string }>('SELECT id, status FROM jobs WHERE agent_id IN ($1, $2)', [planner.id, helper.id])).rows;
  const ours = new Set(jobs.map((j) => j.id));
  const events = (
    await db.query<{ job_id: string; type: string; data: string }>(
      "SELECT job_id, type, data FROM events WHERE type IN ('job.queued', 'job.running', 'job.completed', 'job.failed', 'job.cancelled') ORDER BY root_job_id, sequence",
    )
  ).rows;
  const messages = (await db.query<{ id: string; job_id: string; status: string }>('SELECT id, job_id, status FROM webhook_messages')).rows.filter((m) =>
    ours.has(m.job_id),
  );

  const byJob = new Map<string, string[]>();
  for (const e of events) {
    if (!ours.has(e.job_id)) continue;
    const list = byJob.get(e.job_id) ?? [];
    list.push(e.type);
    byJob.set(e.job_id, list);
  }
  let invalidTransitions = 0;
  let duplicateCompletions = 0;
  for (const [, types] of byJob) {
    if (types.filter((t) => t === 'job.completed').length > 1) duplicateCompletions++;
    let state = 'none';
    for (const type of types) {
      const to = type.slice(4);
      const allowed = (state === 'none' && to === 'queued') || (state === 'queued' && to === 'running') || (state === 'running' && to !== 'running');
      if (!allowed) invalidTransitions++;
      state = to;
    }
  }
  const leasesByJob = new Map<string, Lease[]>();
  for (const lease of leases.values()) leasesByJob.set(lease.job, [...(leasesByJob.get(lease.job) ?? []), lease]);
  let overlappingLeases = 0;
  let stampedEarly = 0;
  let reLeases = 0;
  for (const list of leasesByJob.values()) {
    // In attempt order: the test process runs every worker on one event loop, so when it is busy the answers to
    // two claims may be handled in either order, whereas each lease of a job is for its next attempt.
    list.sort((a, b) => a.attempt - b.attempt);
    reLeases += list.length - 1;
    for (let i = 1; i < list.length; i++) {
      const previousEnd = Math.min(list[i - 1].expiresAt, list[i - 1].endedAt ?? Infinity);
      // Two leases for one attempt would be two workers holding the job at once, whatever the clocks say.
      if (list[i].attempt === list[i - 1].attempt || list[i].receivedAt < previousEnd) overlappingLeases++;
      if (list[i].grantedAt < list[i - 1].expiresAt) stampedEarly++;
    }
    if (list.filter((l) => l.completes > 0).length > 1) duplicateCompletions++;
  }
  const status = new Map(jobs.map((j) => [j.id, j.status]));
  const finishedElsewhere = leasesAtCrash.filter(
    (l) => status.get(l.job) === 'completed' && (leasesByJob.get(l.job) ?? []).some((o) => o.server !== crashed && o.grantedAt > l.grantedAt && o.completes > 0),
  ).length;
  const delivered = new Set(messages.filter((m) => m.status === 'delivered').map((m) => m.id));
  const webhookMissing = messages.filter((m) => !delivered.has(m.id) || !receiver.received.has(m.id)).length;
  const completed = jobs.filter((j) => j.status === 'completed').length;
  return {
    jobs: jobs.length,
    seconds,
    webhooksSeconds,
    jobsPerSecond: Math.round(jobs.length / seconds),
    completed,
    notCompleted: expectedJobs - completed,
    duplicateCompletions,
    overlappingLeases,
    stampedEarly,
    invalidTransitions,
    reLeases,
    finishedElsewhere,
    pendingAtCrash: pendingAtCrash.length,
    pendingAtCrashUndelivered: pendingAtCrash.filter((id) => !delivered.has(id)).length,
    webhookMessages: messages.length,
    webhookMissing,
    webhookDuplicates: [...receiver.received.values()].reduce((sum, n) => sum + n - 1, 0),
    webhookBadSignatures: receiver.badSignatures(),
    workerErrors,
    refusals,
  };
}

/** A webhook receiver on loopback: checks every signature, and refuses the first attempt of one message in 20. */
async function startReceiver(secret: string) {
  const received = new Map<string, number>();
  const refusedOnce = new Set<string>();
  let bad = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      try {
        verifyWebhook(secret, req.headers, Buffer.concat(chunks));
      } catch {
        bad++;
        res.writeHead(400).end();
        return;
      }
      // Some first attempts fail, so that retries — by whichever server claims the message next — are exercised.
      if (!received.has(id) && !refusedOnce.has(id) && createHash('sha1').update(id).digest()[0] < 13) {
        refusedOnce.add(id);
        res.writeHead(503).end();
        return;
      }
      received.set(id, (received.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    badSignatures: () => bad,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The servers' HTTP clients keep connections alive; they would hold close() open.
        server.closeAllConnections();
      }),
  };
}

/**
 * Dispatch references: the bare Fastify endpoint (fastify-bare-server.mjs) in its own process,
 * loaded by 64 concurrent keep-alive clients posting the job payload — storing nothing (the HTTP
 * ceiling), or each job in a one-table SQLite file with group commit (the durable floor), or that
 * after an API key check and validation of the body against agentjobs' schema (the checked
 * durable floor). And the worker-protocol floor: the checked floor answering agentjobs' worker
 * protocol too (claim with long poll, complete, a webhook per job when asked), driven exactly as
 * agentjobs is, in the latency and end-to-end groups.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from '../lib/cpu.js';
import { httpLoad } from '../lib/http-load.js';
import { dispatchBody, PLACEHOLDER_AGENT_ID } from '../lib/payload.js';
import { findFreePort, spawnServer, type SpawnedServer } from '../lib/process.js';
import type { Figure, Scenario, ScenarioContext } from '../lib/scenario.js';
import { startWebhookReceiver, type WebhookReceiver } from '../lib/webhook-receiver.js';
import type { JobsTarget } from '../agentjobs/api.js';
import { pushThrough } from '../agentjobs/e2e.js';
import { latencyPass, latencyPassFigures } from '../agentjobs/latency.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./fastify-bare-server.mjs', import.meta.url));
const BODY = JSON.stringify(dispatchBody(PLACEHOLDER_AGENT_ID));
const HEADERS = { 'content-type': 'application/json' };
/** The API key the checked variant takes. */
const CHECKED_KEY = 'ak_bench_checked_floor';
/** The worker token the worker-protocol floor takes. */
const WORKER_TOKEN = 'awt_bench_worker_floor';

/** Starts the server script with `flags` on a free port, waiting until it answers. */
async function spawnFloor(ctx: ScenarioContext, name: string, flags: string[]): Promise<SpawnedServer> {
  const port = await findFreePort();
  return spawnServer({
    name,
    command: process.execPath,
    args: [SERVER_SCRIPT, '--port', String(port), ...flags],
    cwd: ctx.repoRoot,
    port,
    readyPath: '/healthz',
  });
}

/** Deletes a SQLite file and its WAL and shared-memory files. */
async function removeSqlite(file: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(file + suffix, { force: true })));
}

const VARIANTS = {
  ceiling: {
    id: 'fastify-bare.dispatch',
    label: 'Fastify bare 202 (HTTP ceiling)',
    description:
      'POST /v1/jobs to a Fastify process that parses the body, mints an id and answers 202 without storing anything; closed loop, keep-alive.',
    reference: true,
  },
  durable: {
    id: 'fastify-sqlite.dispatch',
    label: 'Fastify + 1 SQLite insert, group commit (durable floor)',
    description:
      'The same endpoint, answering only after the job is inserted into a one-table SQLite file (WAL, synchronous=FULL) and committed with the others of its event-loop turn: what durability alone costs here.',
    reference: false,
  },
  checked: {
    id: 'fastify-checked-sqlite.dispatch',
    label: 'Fastify + API key + body schema + 1 SQLite insert (checked floor)',
    description:
      "The durable floor after the checks any dispatch API owes: a bearer API key looked up in memory and the body validated against agentjobs' own DispatchRequest schema (strict Ajv, as agentjobs). The least an authenticated, validated, durable dispatch costs here, before any storage design.",
    reference: false,
  },
} as const;

/**
 * Measures `POST /v1/jobs` answered 202 by a Fastify server that stores nothing (`ceiling`: the
 * most any dispatch endpoint on this framework, this machine and this client can reach) or that
 * stores each job durably and nothing else (`durable`), or that after checking the caller's key and
 * the body (`checked`).
 */
export function fastifyBareDispatch(variant: keyof typeof VARIANTS = 'ceiling'): Scenario {
  const { id, label, description, reference } = VARIANTS[variant];
  const checked = variant === 'checked';
  // Built once: the load generator's own cost per request must not grow with the variant.
  const headers = checked ? { ...HEADERS, authorization: `Bearer ${CHECKED_KEY}` } : HEADERS;
  let server: SpawnedServer | undefined;
  let dbFile: string | undefined;
  const load = (ctx: ScenarioContext, durationMs: number) =>
    httpLoad({
      origins: [server!.origin],
      connections: ctx.sizes.concurrency,
      durationMs,
      expectStatus: 202,
      request: () => ({ method: 'POST', path: '/v1/jobs', headers, body: BODY }),
    });

  return {
    id,
    group: 'dispatch',
    label,
    description,
    reference,
    // The checked variant validates with agentjobs' own schema, from this checkout's build of @agentjobs/sdk/protocol.
    requires: checked ? ['agentjobs'] : [],
    config: { process: 'separate', logger: false, ...(variant === 'ceiling' ? {} : { synchronous: 'FULL' }), ...(checked ? { checks: 'api key, DispatchRequest schema' } : {}) },
    async setup(ctx) {
      dbFile = variant === 'ceiling' ? undefined : join(ctx.workDir, `fastify-sqlite-${variant}.db`);
      server = await spawnFloor(ctx, `Fastify server (${variant})`, [
        ...(checked ? ['--checked', CHECKED_KEY] : []),
        ...(dbFile ? ['--sqlite', dbFile] : []),
      ]);
      // JIT warm-up so the first round does not measure the interpreter.
      await load(ctx, ctx.sizes.warmupMs);
    },
    async run(ctx) {
      const cpu0 = processCpuSeconds(server!.pid);
      const result = await load(ctx, ctx.sizes.throughputMs);
      const serverCpuSeconds = processCpuSeconds(server!.pid) - cpu0;
      if (result.errors) throw new Error(`${result.errors} failed requests: ${result.firstError}`);
      const figures: Figure[] = [
        { name: 'accepted', unit: 'jobs/s', value: result.opsPerSec, better: 'higher' },
        { name: 'request p50', unit: 'ms', value: result.latency.p50, better: 'lower' },
        { name: 'request p99', unit: 'ms', value: result.latency.p99, better: 'lower' },
        // CPU per request shows what a request costs independently of how fast the cores ran.
        { name: 'server CPU/job', unit: 'µs', value: (serverCpuSeconds * 1e6) / result.ok, better: 'lower' },
        { name: 'server RSS', unit: 'MB', value: (await server!.rssBytes()) / 1e6, better: 'lower' },
      ];
      return figures;
    },
    async teardown() {
      await server?.stop();
      server = undefined;
      if (dbFile) await removeSqlite(dbFile);
    },
  };
}

/** The worker-protocol floor's process, on a SQLite file of its own. */
interface WorkerFloor {
  /** What the agentjobs passes drive: the floor's origin, its API key, its one agent and worker token. */
  target: JobsTarget;
  /** The server process, for its CPU time. */
  pid: number;
  /** Stops the process and deletes its file. */
  stop(): Promise<void>;
}

/** Starts the checked durable floor with agentjobs' worker protocol (`--worker-token`) on a new file `name`. */
async function startWorkerFloor(ctx: ScenarioContext, name: string): Promise<WorkerFloor> {
  const dbFile = join(ctx.workDir, `fastify-worker-floor-${name}.db`);
  await removeSqlite(dbFile);
  const server = await spawnFloor(ctx, `Fastify server (worker floor, ${name})`, ['--checked', CHECKED_KEY, '--sqlite', dbFile, '--worker-token', WORKER_TOKEN]);
  return {
    target: { origins: [server.origin], apiKey: CHECKED_KEY, agent: { id: PLACEHOLDER_AGENT_ID, worker_token: WORKER_TOKEN } },
    pid: server.pid,
    async stop() {
      await server.stop();
      await removeSqlite(dbFile);
    },
  };
}

const WORKER_FLOOR_TEXT =
  "the checked durable floor speaking agentjobs' worker protocol too (a long-polling claim handed its job in the dispatch's own commit, complete), validated with agentjobs' schemas; no events";

/**
 * The latency group's floor: the checked durable floor answering agentjobs' worker protocol as well
 * (`--worker-token`), driven by the same open-loop pass and protocol worker as agentjobs. What dispatch →
 * claimed costs on this machine for any durable HTTP job server, before agentjobs' own design.
 */
export function fastifyFloorLatency(): Scenario {
  let floor: WorkerFloor | undefined;
  return {
    id: 'fastify-worker-floor.latency',
    group: 'latency',
    label: 'Fastify + API key + schemas + SQLite, worker protocol (latency floor)',
    description: `Open-loop dispatches to ${WORKER_FLOOR_TEXT}, driven as agentjobs is: dispatch → claimed for a durable HTTP job server here, before any design of its own.`,
    requires: ['agentjobs'],
    config: { process: 'separate', logger: false, synchronous: 'FULL', claimLoops: 2, waitSeconds: 5 },
    async setup(ctx) {
      floor = await startWorkerFloor(ctx, 'latency');
      // Warmed up as agentjobs is at the start of each of its rounds.
      await latencyPass(ctx, floor.target, Math.min(2000, ctx.sizes.latencyMs));
    },
    async run(ctx) {
      const cpu0 = processCpuSeconds(floor!.pid);
      const pass = await latencyPass(ctx, floor!.target, ctx.sizes.latencyMs);
      return latencyPassFigures(pass, processCpuSeconds(floor!.pid) - cpu0);
    },
    async teardown() {
      await floor?.stop();
      floor = undefined;
    },
  };
}

/**
 * The end-to-end group's floor: the same server, its jobs dispatched by 64 clients while the lean protocol worker
 * claims and completes them, as agentjobs' lean-worker scenarios do — a fresh file each round. Without webhooks,
 * the clock stops at the last acknowledged complete; with them (`webhooks`: a `completed` observer on every job),
 * at the last message's arrival at the local receiver. What any durable job server whose workers speak HTTP
 * reaches here, before events or any design of its own, to set beside BullMQ's no-op jobs.
 */
export function fastifyFloorEndToEnd(webhooks = false): Scenario {
  let receiver: WebhookReceiver | undefined;
  return {
    id: `fastify-worker-floor.e2e${webhooks ? '.webhooks' : ''}`,
    group: 'e2e',
    label: `Fastify + API key + schemas + SQLite → lean workers${webhooks ? ' → webhook' : ''} (end-to-end floor)`,
    description:
      `Jobs dispatched over HTTP by concurrent clients to ${WORKER_FLOOR_TEXT}, while the lean protocol worker (two claim loops of up to 32 jobs, concurrency 64) completes them; ` +
      (webhooks
        ? 'a completed webhook per job (a message row in the complete\'s commit, signed, POSTed, its answer recorded) to a local receiver; jobs/s until the last webhook arrived.'
        : 'jobs/s until the last complete was acknowledged.'),
    requires: ['agentjobs'],
    config: { process: 'separate', logger: false, synchronous: 'FULL', worker: 'lean', waitSeconds: 5, webhooks },
    async setup() {
      if (webhooks) receiver = await startWebhookReceiver();
    },
    async run(ctx, round) {
      const floor = await startWorkerFloor(ctx, `e2e-${webhooks ? 'wh-' : ''}${round}`);
      try {
        // A short pass first, so the measured one runs on warmed-up code (as agentjobs' rounds do).
        await pushThrough(ctx, floor.target, Math.min(2000, ctx.sizes.e2eJobs), receiver, 'lean');
        const cpu0 = processCpuSeconds(floor.pid);
        const jobsPerSec = await pushThrough(ctx, floor.target, ctx.sizes.e2eJobs, receiver, 'lean');
        return [
          { name: 'jobs/s', unit: 'jobs/s', value: jobsPerSec, better: 'higher' },
          { name: 'server CPU/job', unit: 'µs', value: ((processCpuSeconds(floor.pid) - cpu0) * 1e6) / ctx.sizes.e2eJobs, better: 'lower' },
        ];
      } finally {
        await floor.stop();
      }
    },
    async teardown() {
      await receiver?.close();
      receiver = undefined;
    },
  };
}

import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobsContext } from '../jobs/context.js';
import { countAgentJobs, createFinishedJobsCounter, type AgentQueueCount } from '../jobs/job-counts.js';
import type { SendResult } from '../webhooks/webhook-sender.js';
import { addRouteHook } from './route-hooks.js';

/** The server's Prometheus metrics: what `/metrics` serves and the hooks that feed it. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Registers `GET /metrics` and the timing hooks; pass it to `buildApp` as a plugin. */
  plugin(app: FastifyInstance): void;
  /** Counts one webhook attempt; pass it to the delivery loop as `onAttempt`. */
  webhookAttempt(result: SendResult): void;
}

/** Routes whose latency is measured, by their Fastify route pattern. */
const CLAIM_ROUTE = '/v1/agents/:agent_id/claim';
const DISPATCH_ROUTES: Record<string, 'job' | 'subjob'> = { '/v1/jobs': 'job', '/v1/jobs/:job_id/subjobs': 'subjob' };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the metrics hook when a claim answered no jobs. */
    claimEmpty?: boolean;
  }
}

/**
 * Creates the metrics of one server in a registry of its own: several servers in one process (tests, the demo)
 * must not share series. Counters and histograms are fed by hooks. The gauges of jobs and queues are read
 * through the use cases when Prometheus scrapes, so they are right whichever process made the change.
 */
export function createMetrics(ctx: JobsContext): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const forgetAgents = registerJobGauges(registry, ctx);
  registerFinishedJobs(registry, ctx);
  const timing = registerTimings(registry);
  return {
    registry,
    webhookAttempt(result) {
      timing.webhookAttempts.inc({ outcome: result.outcome });
      timing.webhookSeconds.observe({ outcome: result.outcome }, result.latencyMs / 1000);
    },
    plugin(app) {
      app.decorateRequest('claimEmpty', false);
      // Timing hooks only on the routes they time, so that no other request pays for them.
      app.addHook('onRoute', (route) => addTimingHooks(route, timing));
      // No auth, as Prometheus expects; the numbers name agent ids but no tenant data. See docs/operations.md.
      app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)' } }, async (_request, reply) => {
        forgetAgents();
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      });
    },
  };
}

/**
 * The gauges of queued and running jobs. The per-agent counts feed three gauges, and one read serves them all,
 * shared by the collects of a scrape (prom-client runs them together). Returns the function that forgets the
 * read, which the /metrics route calls before each scrape.
 */
function registerJobGauges(registry: Registry, ctx: JobsContext): () => void {
  let agents: Promise<AgentQueueCount[]> | null = null;
  const readAgents = () => (agents ??= countAgentJobs(ctx));
  new Gauge({
    name: 'agentjobs_jobs',
    help: 'Jobs waiting (queued) or leased to a worker (running) now, across all tenants.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await readAgents();
      this.set({ status: 'queued' }, rows.reduce((n, r) => n + r.queued, 0));
      this.set({ status: 'running' }, rows.reduce((n, r) => n + r.running, 0));
    },
  });
  new Gauge({
    name: 'agentjobs_queue_depth',
    help: 'Queued jobs per agent, waiting for a worker to claim them.',
    labelNames: ['agent_id'],
    registers: [registry],
    async collect() {
      const rows = await readAgents();
      // Reset first: an agent deleted since the last scrape must not keep its last value for ever.
      this.reset();
      for (const row of rows) this.set({ agent_id: row.agentId }, row.queued);
    },
  });
  new Gauge({
    name: 'agentjobs_agent_running_jobs',
    help: 'Running jobs per agent (leased to a worker).',
    labelNames: ['agent_id'],
    registers: [registry],
    async collect() {
      const rows = await readAgents();
      this.reset();
      for (const row of rows) this.set({ agent_id: row.agentId }, row.running);
    },
  });
  return () => {
    agents = null;
  };
}

/** Jobs finished since this server started, counted from the events committed since the previous scrape. */
function registerFinishedJobs(registry: Registry, ctx: JobsContext): void {
  const finished = createFinishedJobsCounter(ctx);
  new Counter({
    name: 'agentjobs_jobs_finished_total',
    help: 'Jobs that reached a terminal status (completed, failed, cancelled) since this server started, across all tenants and processes.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const row of await finished.next()) this.inc({ status: row.status }, row.count);
    },
  });
}

type Timings = ReturnType<typeof registerTimings>;

/** The histograms and counters fed by hooks: claims, dispatches, webhook attempts. */
function registerTimings(registry: Registry) {
  return {
    claimSeconds: new Histogram({
      name: 'agentjobs_claim_duration_seconds',
      help: 'Time to answer a claim, long-poll wait included; result="jobs" when it handed out work, "empty" when the wait ended without any.',
      labelNames: ['result', 'long_poll'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
      registers: [registry],
    }),
    dispatchSeconds: new Histogram({
      name: 'agentjobs_dispatch_duration_seconds',
      help: 'Time to answer a dispatch (kind="job": POST /v1/jobs; kind="subjob": a worker dispatching a subjob), durable commit included.',
      labelNames: ['kind', 'status_code'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'agentjobs_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome (ok, http_status, timeout, connection_error, dns_error, blocked_destination, …).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    webhookSeconds: new Histogram({
      name: 'agentjobs_webhook_attempt_duration_seconds',
      help: 'Duration of one webhook attempt, from the start of the request to the end of the response.',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/** Times the claim and dispatch routes; every other route is left without hooks. */
function addTimingHooks(route: RouteOptions, timing: Timings): void {
  if (route.method !== 'POST') return;
  const url = route.url;
  const onResponse = async (request: FastifyRequest, reply: FastifyReply) => {
    const seconds = reply.elapsedTime / 1000;
    if (url === CLAIM_ROUTE) {
      const result = reply.statusCode !== 200 ? 'error' : request.claimEmpty ? 'empty' : 'jobs';
      timing.claimSeconds.observe({ result, long_poll: String(waitSecondsOf(request) > 0) }, seconds);
    } else {
      timing.dispatchSeconds.observe({ kind: DISPATCH_ROUTES[url], status_code: String(reply.statusCode) }, seconds);
    }
  };
  if (url === CLAIM_ROUTE) {
    // The claim use case renders its answer as text; an empty claim is exactly this string.
    const onSend = async (request: FastifyRequest, _reply: FastifyReply, payload: unknown) => {
      if (payload === '{"jobs":[]}') request.claimEmpty = true;
      return payload;
    };
    addRouteHook(route, 'onSend', onSend);
  }
  if (url === CLAIM_ROUTE || url in DISPATCH_ROUTES) addRouteHook(route, 'onResponse', onResponse);
}

function waitSecondsOf(request: FastifyRequest): number {
  const body = request.body as { wait_seconds?: unknown } | undefined;
  return typeof body?.wait_seconds === 'number' ? body.wait_seconds : 0;
}

import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';
import { createLogger } from './logger.js';
import type { Store } from './store/store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { JobsContext } from './jobs/context.js';
import { SchemaValidators } from './jobs/schema-validators.js';
import { bootstrapFirstTenant } from './jobs/tenants.js';
import { expireDueJobs, nextDueAt } from './jobs/expire-due-jobs.js';
import { fireDueSchedules, nextScheduleDueAt } from './jobs/fire-schedules.js';
import { forgetExpiredIdempotencyKeys } from './jobs/idempotency.js';
import { WorkerSightings } from './jobs/worker-sightings.js';
import { startTimerLoop } from './loops/timer-loop.js';
import { buildApp } from './http/app.js';
import { makeDispatchUrlCheck } from './webhooks/observer-url-check.js';
import { startDeliveryLoop } from './webhooks/delivery-loop.js';
import { startMaintenanceLoop } from './loops/maintenance-loop.js';
import { startModelRunner } from './runtimes/model/model-runner.js';
import { makeRuntimeCheck } from './runtimes/model/options.js';
import { createMetrics } from './http/metrics.js';
import { dashboardPlugin } from './dashboard/plugin.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** A running server. */
export interface RunningServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly ctx: JobsContext;
  readonly options: ResolvedOptions;
  /** The API key created on first start, when this start created it. */
  readonly firstKey: string | null;
  /** Graceful shutdown: stop claiming, finish in-flight requests, leave leases to expire. */
  close(): Promise<void>;
}

/**
 * Opens the store the options name (PostgreSQL when a database URL is given, else the SQLite file). `log` hears
 * about trouble the store survives, such as a dropped LISTEN connection.
 */
export async function openStore(options: ResolvedOptions, log?: Logger): Promise<Store> {
  if (options.databaseUrl) {
    // Loaded only when asked for, so the embedded setup never loads the PostgreSQL driver.
    const postgres = './store/postgres/postgres-store.js';
    const { PostgresStore } = (await import(postgres)) as typeof import('./store/postgres/postgres-store.js');
    return new PostgresStore({
      connectionString: options.databaseUrl,
      clock: options.clock,
      onError: (error, context) => log?.warn({ err: error }, context),
    });
  }
  mkdirSync(options.dataDir, { recursive: true });
  return new SqliteStore({ path: join(options.dataDir, 'agentjobs.db'), clock: options.clock });
}

/**
 * The composition root: options → store → use cases → HTTP → background loops (timers, webhook delivery,
 * maintenance, the model runtime). Resolves once the server listens.
 */
export async function startServer(input: ServerOptions = {}, logger?: Logger): Promise<RunningServer> {
  const options = resolveOptions(input);
  const log = logger ?? createLogger(options.logLevel);
  const store = await openStore(options, log);
  await store.migrate();

  const firstKey = await bootstrapFirstTenant(store);
  if (firstKey) {
    mkdirSync(options.dataDir, { recursive: true });
    const path = join(options.dataDir, 'admin.key');
    writeFileSync(path, `${firstKey}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    options.announce(`agentjobs: created the first API key (shown once, also saved to ${path}):\n\n    ${firstKey}\n`);
  }

  const shutdown = new AbortController();
  // Every long poll (claims, subjob waits, event streams) listens to this signal: hundreds at once is normal.
  setMaxListeners(0, shutdown.signal);
  const ctx: JobsContext = {
    store,
    limits: options.limits,
    leaseMs: options.leaseMs,
    validators: new SchemaValidators(),
    checkObserverUrl: makeDispatchUrlCheck({ allowPrivate: options.allowPrivateWebhooks, resolver: options.resolver }),
    checkRuntime: makeRuntimeCheck(options.modelRuntime),
    workersSeen: new WorkerSightings(options.clock),
    shutdown: shutdown.signal,
  };

  const metrics = createMetrics(ctx);
  const app = await buildApp(ctx, { logger: log, version, plugins: [dashboardPlugin, metrics.plugin] });
  // The port is bound before any background loop starts: a server that cannot listen (a port in use) does no
  // work against the store, and closes it before the error reaches the caller.
  await listenOrClose(app, store, options);
  const timers = startTimerLoop(
    store,
    {
      expireDue: () => expireDueJobs(ctx),
      nextDueAt: () => nextDueAt(ctx),
      fireDue: () => fireDueSchedules(ctx),
      nextFireAt: () => nextScheduleDueAt(ctx),
    },
    log,
  );
  const deliveries = startDeliveryLoop({
    store,
    log,
    allowPrivate: options.allowPrivateWebhooks,
    timeoutMs: options.webhookTimeoutMs,
    retrySchedule: options.webhookRetrySchedule,
    resolver: options.resolver,
    onAttempt: metrics.webhookAttempt,
  });
  const maintenance = startMaintenanceLoop(() => forgetExpiredIdempotencyKeys(ctx), log);
  const models = startModelRunner(ctx, options.modelRuntime, log);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  log.info({ url, store: store.dialect.engine }, 'agentjobs listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    app,
    store,
    ctx,
    options,
    firstKey,
    close: () =>
      (closing ??= (async () => {
        shutdown.abort();
        // Before the store closes: model runs are aborted without a report, leaving their leases to expire.
        await models.stop();
        // In-flight requests get a grace period to finish; then connections still open — a keep-alive socket
        // that never sent a request, a slow client — are closed rather than holding the shutdown for a minute.
        const force = setTimeout(() => app.server.closeAllConnections(), 10_000);
        app.server.closeIdleConnections();
        await app.close();
        clearTimeout(force);
        await Promise.all([timers.stop(), deliveries.stop(), maintenance.stop()]);
        await store.close();
      })()),
  };
}

/**
 * Listens where the options say. When that fails (`EADDRINUSE`, `EACCES`, …) it closes the app and the store, so
 * nothing keeps the process alive, then rethrows the listen error unchanged (its `code`, `address` and `port`).
 */
async function listenOrClose(app: FastifyInstance, store: Store, options: ResolvedOptions): Promise<void> {
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    // A failure while cleaning up must not hide why the server could not start.
    await app.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}

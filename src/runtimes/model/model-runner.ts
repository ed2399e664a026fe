import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { JobsError } from '../../domain/jobs-error.js';
import { claimJobs } from '../../jobs/claim-jobs.js';
import type { JobsContext, Principal } from '../../jobs/context.js';
import type { AgentRow } from '../../store/rows.js';
import { listAgentsByRuntime } from '../../store/repo/agents-repo.js';
import { runModelJob, type ClaimedJob } from './model-job.js';
import type { ResolvedModelRuntimeOptions } from './options.js';

/** The model runtime of one server process. */
export interface ModelRunner {
  /**
   * Stops claiming and aborts the runs in flight without reporting them: their leases expire and the jobs run
   * again (`attempt` + 1) on this server after a restart or on another one (SPEC §7: leave leases to expire).
   */
  stop(): Promise<void>;
}

/** Most often the list of model agents is read again because of wake-ups. */
const MIN_REFRESH_GAP_MS = 100;
/** Backoff bounds after a failed claim (the store is unreachable, say). */
const CLAIM_BACKOFF_MS = [250, 10_000] as const;

/**
 * Runs the agents of runtime `model` inside the server: for each such agent, of every tenant, a loop claims
 * its jobs through `claimJobs` — with a lease, as a worker would, under the in-process principal
 * `{kind: 'worker', tokenId: 'model-runtime'}` — and runs up to the agent's `max_concurrency` of them at once
 * in this process (`defaultConcurrency` when the agent sets none). Because the runtime goes through the same
 * use cases as workers, leases, fencing, cancellation, deadlines, budgets, events and webhooks behave exactly
 * as for workers, and on PostgreSQL every server process takes its share of the work.
 *
 * The list of model agents is read at start, every `agentRefreshMs`, and soon after a wake-up for an agent
 * it does not know — a dispatch to a new model agent is picked up at once.
 */
export function startModelRunner(ctx: JobsContext, options: ResolvedModelRuntimeOptions, log: Logger): ModelRunner {
  const runner = new Runner(ctx, options, log.child({ component: 'model-runtime' }));
  if (options.enabled) runner.start();
  return { stop: () => runner.stop() };
}

class Runner {
  private readonly loops = new Map<string, AgentLoop>();
  // Agents named by wake-ups that a refresh showed are not model agents (worker agents, mostly): their
  // wake-ups are ignored until the next periodic refresh, so busy worker agents cost no list queries.
  private readonly others = new Set<string>();
  private readonly asked = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly cleanups: Array<() => void> = [];
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshing: Promise<void> | null = null;
  private lastRefresh = 0;
  /** How this process shows among an agent's workers (within the protocol's 100 characters). */
  readonly workerId = `model-runtime@${hostname().slice(0, 64)}:${process.pid}`;

  constructor(
    readonly ctx: JobsContext,
    readonly options: ResolvedModelRuntimeOptions,
    readonly log: Logger,
  ) {
    // Every agent loop and every run listens to this signal; many of them is normal, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  start(): void {
    const unlisten = this.ctx.store.listen('agent', (agentId) => {
      if (this.loops.has(agentId) || this.others.has(agentId)) return;
      this.asked.add(agentId);
      this.scheduleRefresh();
    });
    const every = setInterval(() => {
      this.others.clear();
      this.scheduleRefresh();
    }, this.options.agentRefreshMs);
    every.unref();
    this.cleanups.push(unlisten, () => clearInterval(every));
    this.scheduleRefresh();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    await this.refreshing;
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()));
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer || this.stopping.signal.aborted) return;
    const wait = Math.max(0, this.lastRefresh + MIN_REFRESH_GAP_MS - Date.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      // One refresh at a time; a wake-up during one schedules the next.
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
    }, wait);
  }

  /** Starts loops for new model agents, updates the others, and stops those that are gone or no longer model agents. */
  private async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    const asked = [...this.asked];
    this.asked.clear();
    let rows: AgentRow[];
    try {
      rows = await this.ctx.store.read((tx) => listAgentsByRuntime(tx, 'model'));
    } catch (error) {
      if (!this.stopping.signal.aborted) this.log.warn({ err: error }, 'could not list model agents; will retry');
      return;
    }
    if (this.stopping.signal.aborted) return;
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      const loop = this.loops.get(row.id);
      if (loop) loop.update(row);
      else this.loops.set(row.id, new AgentLoop(this, row));
    }
    for (const [id, loop] of this.loops) {
      if (seen.has(id)) continue;
      this.loops.delete(id);
      // Runs already going finish on their own; only claiming stops.
      void loop.stop();
    }
    for (const id of asked) if (!seen.has(id)) this.others.add(id);
  }

  /** Called by a loop whose agent vanished (deleted): forget it, and look again. */
  forget(agentId: string, loop: AgentLoop): void {
    if (this.loops.get(agentId) === loop) this.loops.delete(agentId);
    this.scheduleRefresh();
  }

  /** Aborted when the whole runner stops (server shutdown). */
  get shutdown(): AbortSignal {
    return this.stopping.signal;
  }
}

/** Claims and runs the jobs of one model agent, with bounded concurrency in this process. */
class AgentLoop {
  private row: AgentRow;
  private readonly principal: Principal;
  private readonly claiming = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private slotFreed: (() => void) | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly runner: Runner,
    row: AgentRow,
  ) {
    this.row = row;
    this.principal = { kind: 'worker', tenantId: row.tenant_id, agentId: row.id, tokenId: 'model-runtime' };
    this.done = this.loop();
  }

  /** Takes a newer row of the agent (a changed `max_concurrency` applies from the next claim). */
  update(row: AgentRow): void {
    this.row = row;
  }

  /** Stops claiming; resolves once this loop's runs have ended (aborted first when the runner shuts down). */
  async stop(): Promise<void> {
    this.claiming.abort();
    this.slotFreed?.();
    await this.done;
  }

  private get limit(): number {
    return this.row.max_concurrency ?? this.runner.options.defaultConcurrency;
  }

  private async loop(): Promise<void> {
    const { ctx, options, log } = this.runner;
    const signal = AbortSignal.any([this.claiming.signal, this.runner.shutdown]);
    let failures = 0;
    while (!signal.aborted) {
      const free = this.limit - this.running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        this.slotFreed = null;
        continue;
      }
      let claimed: ClaimedJob[];
      try {
        const answer = await claimJobs(
          ctx,
          this.principal,
          this.row.id,
          { max_jobs: Math.min(free, 100), wait_seconds: options.claimWaitSeconds, worker_id: this.runner.workerId },
          signal,
        );
        claimed = (JSON.parse(answer) as { jobs: ClaimedJob[] }).jobs;
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof JobsError && error.code === 'agent_not_found') {
          // Deleted: its queued jobs failed with agent_deleted, and no new ones can be dispatched to it.
          this.runner.forget(this.row.id, this);
          break;
        }
        log.warn({ err: error, agent_id: this.row.id }, 'model runtime: claim failed; backing off');
        await sleep(Math.min(CLAIM_BACKOFF_MS[1], CLAIM_BACKOFF_MS[0] * 2 ** failures++), signal);
        continue;
      }
      for (const item of claimed) {
        const run = runModelJob({ ctx, options, log }, this.principal, item, this.runner.shutdown).finally(() => {
          this.running.delete(run);
          this.slotFreed?.();
        });
        this.running.add(run);
      }
    }
    await Promise.all(this.running);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

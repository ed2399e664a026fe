import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { JobsError } from '../../domain/jobs-error.js';
import type { JobsContext, Principal } from '../../jobs/context.js';
import { heartbeatJob } from '../../jobs/heartbeat-job.js';
import type { JobMessage } from '@agentjobs/sdk/protocol';
import { RunStopped, type StopReason } from './errors.js';

/** The leased job a run holds. */
export interface LeasedJob {
  id: string;
  rootJobId: string;
  leaseToken: string;
  /** When the job's deadline passes (RFC 3339), or null. */
  deadlineAt: string | null;
}

/** Gap between a wake-up on the job's tree and the heartbeat it triggers, so a burst of events costs one. */
const WAKE_DEBOUNCE_MS = 50;

/**
 * Keeps a model run's lease, in-process, the way the worker SDK does over HTTP: a heartbeat every third of the
 * lease (through the same `heartbeatJob` use case), the running token total with each, and a stop when the
 * answer says so; the messages heartbeats bring wait in an inbox for the run. On top of the SDK's timer it
 * listens to the job tree's wake-ups, so a cancel or a message sent through the API (each writes an event)
 * reaches the run in milliseconds rather than at the next beat, also from another server process on
 * PostgreSQL; and it stops the run itself when the job's deadline passes.
 *
 * `signal` aborts with a {@link RunStopped} on the first stop; `stopReason` says why.
 */
export class RunLease {
  private readonly controller = new AbortController();
  private tokens = 0;
  private stopped: StopReason | null = null;
  private disposed = false;
  private readonly cleanups: Array<() => void> = [];
  private wakeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly inbox: JobMessage[] = [];

  constructor(
    private readonly ctx: JobsContext,
    private readonly principal: Principal,
    private readonly job: LeasedJob,
    private readonly log: Logger,
  ) {
    // The openai client adds an abort listener per request and never removes it: up to max_turns × (retries
    // + 1) on one run, all dropped with the run. Many listeners here are expected, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted when the run must stop: every await of the run (model call, subjob wait) ends with it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the run was stopped, or null while it may go on. */
  get stopReason(): StopReason | null {
    return this.stopped;
  }

  /** The run's running total of tokens, as last reported. */
  get tokensUsed(): number {
    return this.tokens;
  }

  /** Starts the heartbeats, the wake-up listener and the deadline timer. */
  async start(): Promise<void> {
    const every = setInterval(() => void this.beat(), this.ctx.leaseMs / 3);
    this.cleanups.push(() => clearInterval(every));
    const unlisten = this.ctx.store.listen('tree', (root) => {
      if (root === this.job.rootJobId) this.beatSoon();
    });
    this.cleanups.push(unlisten);
    if (this.job.deadlineAt != null) {
      // Database time decides deadlines; measured against it, the local timer fires when the server's would.
      const delay = Date.parse(this.job.deadlineAt) - (await this.ctx.store.now());
      const timer = setTimeout(() => this.stop('timeout'), Math.min(Math.max(0, delay), 2 ** 31 - 1));
      this.cleanups.push(() => clearTimeout(timer));
    }
  }

  /**
   * Sends the running token total (and a progress message) now and waits for the answer. Rejects with the stop
   * when the run must not go on — in particular when this report crossed the token budget, which the server
   * answers by failing the job: the run ends before another model call can start.
   */
  async report(tokensUsed: number, message?: string): Promise<void> {
    this.tokens = Math.max(this.tokens, tokensUsed);
    await this.beat(message);
    this.signal.throwIfAborted();
  }

  /** Messages the heartbeats brought since the last call, oldest first. */
  takeMessages(): JobMessage[] {
    return this.inbox.splice(0);
  }

  /** Stops the run (the first reason wins). */
  stop(reason: StopReason): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.controller.abort(new RunStopped(reason, this.job.id));
  }

  /** Ends the heartbeats; aborts what the run left behind (a tool still waiting) without recording a stop. */
  dispose(): void {
    this.disposed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (!this.controller.signal.aborted) this.controller.abort(new RunStopped('shutdown', this.job.id));
  }

  private beatSoon(): void {
    if (this.wakeTimer || this.disposed) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      void this.beat();
    }, WAKE_DEBOUNCE_MS);
  }

  private async beat(message?: string): Promise<void> {
    if (this.disposed || this.stopped === 'lease_lost' || this.stopped === 'waiting') return;
    try {
      const answer = await heartbeatJob(this.ctx, this.principal, this.job.id, {
        lease_token: this.job.leaseToken,
        tokens_used: this.tokens,
        ...(message ? { progress: { message: message.slice(0, 2000) } } : {}),
      });
      this.inbox.push(...answer.messages);
      // Also true when this report crossed the token budget: the server has failed the job already.
      if (answer.cancel_requested) this.stop('cancel');
    } catch (error) {
      if (error instanceof JobsError && error.code === 'lease_lost') this.stop('lease_lost');
      // A store hiccup: the lease outlives two missed beats, and the next beat tries again.
      else if (!this.disposed) this.log.warn({ err: error, job_id: this.job.id }, 'model runtime: heartbeat failed; will retry');
    }
  }
}

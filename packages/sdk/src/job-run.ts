import { RESULT_REFUSED_ADVICE } from './protocol/errors.js';
import type { Brief, InputRequest, Job, JobMessage } from './protocol/index.js';
import { AgentJobsError, request, type Transport } from './http.js';
import { JobSession } from './session.js';
import type { DispatchOptions, JobContext, SubjobHandle, WorkerOptions } from './worker.js';
import { JobAbortedError, NonRetryableError, ReplayMismatchError, SubjobFailedError } from './worker-errors.js';

/** A job as the claim answered it: the job, its lease, and its questions and messages so far. */
export interface Claimed {
  job: Job;
  lease: { token: string; expires_at: string };
  /** Every input request of the job with its answer, oldest first (older servers send none). */
  inputs?: InputRequest[];
  /** Every message sent to the job, oldest first. */
  messages?: JobMessage[];
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * One claimed job, run to its end: heartbeats while the handler runs, the handler's context, and the final
 * report. {@link JobRun.run} is the whole life; each step is a method of its own.
 */
export class JobRun {
  private readonly job: Job;
  private readonly leaseToken: string;
  private readonly base: string;
  private readonly abort = new AbortController();
  /** Why the handler must stop, once it must: its cancel, a lost lease, or a question it asked a person. */
  private why: 'cancel' | 'lease_lost' | 'waiting' | null = null;
  /** The job's own running total of tokens: it goes on from what earlier runs reported (a run after a question). */
  private tokens: number;
  /** Progress reported since the last heartbeat. */
  private progress: { percent?: number; message?: string } | undefined;
  private beatSoon: ReturnType<typeof setTimeout> | null = null;
  private dispatches = 0;
  /** Questions, messages, output and artifacts of this run (SPEC §9). */
  private readonly session: JobSession;

  constructor(
    private readonly transport: Transport,
    private readonly options: WorkerOptions,
    claimed: Claimed,
    private readonly leaseSeconds: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.job = claimed.job;
    this.leaseToken = claimed.lease.token;
    this.tokens = claimed.job.tokens_used_self ?? 0;
    this.base = `/v1/jobs/${encodeURIComponent(claimed.job.id)}`;
    this.session = new JobSession(transport, this.job, this.leaseToken, claimed.inputs ?? [], claimed.messages ?? [], {
      waiting: (error) => {
        if (this.why) return;
        this.why = 'waiting';
        this.abort.abort(error);
      },
      leaseLost: () => this.stopWith('lease_lost'),
      beforeQuestion: () => this.heartbeat(),
      onError,
    });
  }

  /** Runs the handler under heartbeats, then reports its outcome; never rejects (failures go to `onError`). */
  async run(): Promise<void> {
    const timer = setInterval(() => void this.heartbeat(), (this.leaseSeconds * 1000) / 3);
    let outcome: Outcome;
    try {
      outcome = await this.handle();
    } finally {
      clearInterval(timer);
      if (this.beatSoon) clearTimeout(this.beatSoon);
    }
    try {
      await this.report(outcome);
    } catch (error) {
      this.onError(error);
    } finally {
      this.session.end();
    }
  }

  /** Aborts `ctx.signal` once, with the first reason. */
  private stopWith(reason: 'cancel' | 'lease_lost'): void {
    if (this.why) return;
    this.why = reason;
    this.abort.abort(new JobAbortedError(this.job.id, reason === 'cancel' ? 'cancel_requested' : 'lease_lost'));
  }

  /** Extends the lease, sending the tokens and any new progress; learns of a requested cancel or a lost lease. */
  private async heartbeat(): Promise<void> {
    if (this.why === 'lease_lost' || this.why === 'waiting') return;
    const sent = this.progress;
    this.progress = undefined;
    try {
      const answer = await this.post<{ cancel_requested: boolean; messages?: JobMessage[] }>('/heartbeat', {
        lease_token: this.leaseToken,
        tokens_used: this.tokens,
        ...(sent ? { progress: sent } : {}),
      });
      this.session.addMessages(answer.messages ?? []);
      if (answer.cancel_requested) this.stopWith('cancel');
    } catch (error) {
      if (error instanceof AgentJobsError && error.code === 'lease_lost') this.stopWith('lease_lost');
      else this.onError(error);
    }
  }

  /** A heartbeat shortly, so that reported progress and tokens reach observers without waiting for the next one. */
  private heartbeatSoon(): void {
    this.beatSoon ??= setTimeout(() => {
      this.beatSoon = null;
      void this.heartbeat();
    }, 200);
  }

  /**
   * Runs the handler. Once `ctx.signal` aborts, a handler that ignores it is abandoned after a grace period,
   * so that the cancel is still confirmed.
   */
  private async handle(): Promise<Outcome> {
    const grace = Math.min(10_000, (this.leaseSeconds * 1000) / 2);
    const signal = this.abort.signal;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      const handled = Promise.resolve().then(() => this.options.handler(this.job, this.context()));
      const abandoned = new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => (graceTimer = setTimeout(() => reject(signal.reason), grace)), { once: true }),
      );
      return { ok: true, value: await Promise.race([handled, abandoned]) };
    } catch (error) {
      return { ok: false, error };
    } finally {
      clearTimeout(graceTimer);
    }
  }

  /** The handler's {@link JobContext}. */
  private context(): JobContext {
    const session = this.session;
    return {
      signal: this.abort.signal,
      attempt: this.job.attempt,
      progress: (percent, message) => {
        this.progress = { ...(percent !== undefined ? { percent } : {}), ...(message !== undefined ? { message } : {}) };
        this.heartbeatSoon();
      },
      reportTokens: (n) => {
        this.tokens += n;
        this.heartbeatSoon();
      },
      toolCall: (tool, input) => session.toolCall(tool, input),
      dispatch: (agentId, brief, options) => this.dispatch(agentId, brief, options),
      ask: (prompt, options) => session.ask(prompt, options),
      requestApproval: (tool, input, options) => session.requestApproval(tool, input, options),
      get replaying() {
        return session.replaying;
      },
      inputs: this.session.inputs,
      messages: session.messages,
      output: (delta, options) => session.output(delta, options?.stream),
      artifact: (artifact) => session.artifact(artifact),
    };
  }

  private async dispatch(agentId: string, brief: Brief, options: DispatchOptions = {}): Promise<SubjobHandle> {
    const key = options.idempotencyKey ?? `${this.job.id}:subjob:${this.dispatches++}`;
    const child = await request<{ id: string }>(this.transport, 'POST', `${this.base}/subjobs`, {
      idempotencyKey: key,
      body: {
        lease_token: this.leaseToken,
        agent_id: agentId,
        brief,
        ...(options.observers ? { observers: options.observers } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.onParentEnd ? { on_parent_end: options.onParentEnd } : {}),
      },
    });
    const wait = () => this.waitForSubjob(child.id);
    return {
      id: child.id,
      agentId,
      wait,
      result: async <T>() => {
        const state = await wait();
        if (state.status !== 'completed') throw new SubjobFailedError(state);
        return state.result as T;
      },
      cancel: async () => {
        await this.post(`/subjobs/${child.id}/cancel`, { lease_token: this.leaseToken });
      },
    };
  }

  /** Long-polls a subjob until it has finished; rejects with `ctx.signal.reason` when this job must stop first. */
  private async waitForSubjob(childId: string): Promise<Job> {
    const signal = this.abort.signal;
    let unreachable = 0;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      let state: Job;
      try {
        state = await request<Job>(this.transport, 'POST', `${this.base}/subjobs/${childId}/wait`, {
          body: { lease_token: this.leaseToken, wait_seconds: 25 },
          signal,
        });
        unreachable = 0;
      } catch (error) {
        // The wait may learn before a heartbeat that the job is no longer this worker's: stop it the same way.
        if (error instanceof AgentJobsError && error.code === 'lease_lost') this.stopWith('lease_lost');
        if (signal.aborted) throw signal.reason;
        // A server that restarts is no reason to give up a child that may be fine: wait on while the lease may hold.
        if (error instanceof AgentJobsError && error.code === 'network_error' && unreachable++ < 20) {
          await pause(Math.min(2000, 100 * 2 ** unreachable), signal);
          continue;
        }
        throw error;
      }
      if (TERMINAL.has(state.status)) return state;
    }
  }

  /** Tells the server how the job ended: confirms a cancel, completes, or fails it. */
  private async report(outcome: Outcome): Promise<void> {
    // A question ended the run: its lease ended with the question, and there is nothing to report.
    if (this.why === 'lease_lost' || this.why === 'waiting') return;
    // Output the handler wrote before it ended goes out before its result.
    await this.session.flush();
    // Progress reported just before the handler returned is still waiting for its heartbeat: send it first.
    if (this.progress && this.why === null) await this.heartbeat();
    if (this.why === 'cancel') {
      await this.fail({ code: 'cancelled', message: 'The worker stopped the job because its cancel was requested.' });
    } else if (outcome.ok) {
      await this.complete(outcome.value);
    } else {
      await this.failWith(outcome.error);
    }
  }

  private async complete(value: unknown): Promise<void> {
    try {
      await this.post('/complete', { lease_token: this.leaseToken, result: value ?? null, tokens_used: this.tokens });
    } catch (error) {
      if (!(error instanceof AgentJobsError)) throw error;
      if (error.code === 'cancel_requested') {
        await this.fail({ code: 'cancelled', message: 'Cancel confirmed on completion.' });
      } else if (error.code === 'output_schema_mismatch') {
        // The same handler would produce the same result again: fail without retrying, saying what is wrong.
        await this.fail({ code: 'output_schema_mismatch', message: refusedResultMessage(error) }, false);
      } else if (error.code !== 'lease_lost') throw error;
    }
  }

  /**
   * Fails the job with what the handler threw: retryable unless it is a NonRetryableError, a failed subjob, or a
   * run that asked other questions than the run before (it would ask them again).
   */
  private failWith(error: unknown): Promise<void> {
    const code =
      error instanceof NonRetryableError && error.code
        ? error.code
        : error instanceof SubjobFailedError
          ? 'subjob_failed'
          : error instanceof ReplayMismatchError
            ? error.code
            : 'agent_error';
    const message = error instanceof Error ? error.message || error.name : String(error);
    const final = error instanceof NonRetryableError || error instanceof SubjobFailedError || error instanceof ReplayMismatchError;
    return this.fail({ code, message }, !final);
  }

  /** Sends the fail report; a lost lease means someone else owns the job now, which is not an error here. */
  private async fail(error: { code: string; message: string }, retryable?: boolean): Promise<void> {
    try {
      await this.post('/fail', {
        lease_token: this.leaseToken,
        tokens_used: this.tokens,
        error,
        ...(retryable !== undefined ? { retryable } : {}),
      });
    } catch (failure) {
      if (!(failure instanceof AgentJobsError && failure.code === 'lease_lost')) throw failure;
    }
  }

  private post<T = unknown>(path: string, body: unknown): Promise<T> {
    return request<T>(this.transport, 'POST', `${this.base}${path}`, { body });
  }
}

/**
 * The message a job is failed with when the server refused its handler's result (422 `output_schema_mismatch`):
 * the server's own account of what does not match, without its advice to complete again — the job is failed
 * now — and short enough for the fail endpoint.
 */
function refusedResultMessage(error: AgentJobsError): string {
  return error.message.replace(` ${RESULT_REFUSED_ADVICE}`, '').slice(0, 2000);
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Brief, Job, Observer } from './protocol/index.js';
import { RESULT_REFUSED_ADVICE } from './protocol/errors.js';
import { AgentJobsError, request, type Transport } from './http.js';
import { nodeExchange } from './node-http.js';

export { AgentJobsError } from './http.js';
export type { Job, Brief } from './protocol/index.js';

/** Throw it from a handler to fail the job without retrying it (anything else thrown is retried while attempts remain). */
export class NonRetryableError extends Error {
  constructor(
    message: string,
    /** snake_case code for the job's `error.code`. @default "agent_error" */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'NonRetryableError';
  }
}

/** A subjob ended without completing; `job` is its final state (`failed` or `cancelled`, with its `error`). */
export class SubjobFailedError extends Error {
  constructor(readonly job: Job) {
    super(`Subjob ${job.id} ${job.status}: ${job.error?.message ?? 'no error message'}`);
    this.name = 'SubjobFailedError';
  }
}

/**
 * Why a handler must stop: the reason of `ctx.signal` once it aborts, and what the SDK's calls that wait on the
 * server for the job (`SubjobHandle.result()` and `wait()`) reject with then. `code` is `cancel_requested` when
 * the job's cancel was requested (it or an ancestor was cancelled), `lease_lost` when the job is no longer this
 * worker's (its lease ran out, it timed out, or another worker took it over).
 */
export class JobAbortedError extends Error {
  constructor(
    readonly jobId: string,
    readonly code: 'cancel_requested' | 'lease_lost',
  ) {
    super(code === 'cancel_requested' ? `The cancel of job ${jobId} was requested.` : `Lost the lease on job ${jobId}.`);
    this.name = 'JobAbortedError';
  }
}

/** The brief does not allow this tool (`allowed_tools` / `denied_tools`); the refusal is logged on the job. */
export class ToolNotAllowedError extends Error {
  constructor(readonly tool: string, message: string) {
    super(message);
    this.name = 'ToolNotAllowedError';
  }
}

/** A subjob dispatched by a handler. */
export interface SubjobHandle {
  readonly id: string;
  readonly agentId: string;
  /**
   * Waits for the subjob to finish (long-polling the server, while the parent's heartbeats go on) and resolves
   * to its result; rejects with {@link SubjobFailedError} when it failed or was cancelled. When the parent
   * itself must stop first (its cancel requested, its lease lost), rejects with the parent's `ctx.signal.reason`,
   * a {@link JobAbortedError}: the subjob has not ended then.
   */
  result<T = unknown>(): Promise<T>;
  /** The subjob's job object once it has finished; rejects like {@link SubjobHandle.result} when the parent must stop first. */
  wait(): Promise<Job>;
  /** Cancels the subjob (and its own subtree). */
  cancel(): Promise<void>;
}

/** Options of {@link JobContext.dispatch}. */
export interface DispatchOptions {
  observers?: Observer[];
  metadata?: Record<string, unknown>;
  /** What happens to the subjob when this job ends first. @default "cancel" */
  onParentEnd?: 'cancel' | 'continue';
  /**
   * Makes the dispatch idempotent. By default the SDK derives one from the job and the order of the dispatch
   * within the handler, so a handler re-run after a lost lease gets the same subjobs back instead of new ones.
   */
  idempotencyKey?: string;
}

/** What a handler gets besides the job. */
export interface JobContext {
  /**
   * Aborted when the job's cancel is requested, its lease is lost or it times out: stop, and throw. Its reason
   * is a {@link JobAbortedError}.
   */
  readonly signal: AbortSignal;
  /** The run of the job, from 1. */
  readonly attempt: number;
  /** Reports progress (shown live to observers of the job's events). */
  progress(percent?: number, message?: string): void;
  /** Adds tokens used by this job (its running total is sent with heartbeats and the result). */
  reportTokens(tokens: number): void;
  /** Reports a tool call before making it; throws {@link ToolNotAllowedError} when the brief does not allow it. */
  toolCall(tool: string, input?: unknown): Promise<void>;
  /** Dispatches a subjob to another agent (or this one). */
  dispatch(agentId: string, brief: Brief, options?: DispatchOptions): Promise<SubjobHandle>;
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Server URL. @default "http://127.0.0.1:8080" */
  url?: string;
  agentId: string;
  /** A worker token of the agent (awt_…). */
  token: string;
  /** Jobs run at once by this worker. @default 1 */
  concurrency?: number;
  /** Runs one job; its return value is the job's result. */
  handler: (job: Job, ctx: JobContext) => Promise<unknown> | unknown;
  /** Lease asked for on each claim; heartbeats go every third of it. @default 30 */
  leaseSeconds?: number;
  /** How long one claim waits for work. @default 25 */
  waitSeconds?: number;
  /** Name of this worker, for "workers seen". @default hostname and a random suffix */
  workerId?: string;
  /** Called with errors that the worker survives (network trouble, a failed report). @default console.error */
  onError?: (error: unknown) => void;
  /** A fetch to send requests with, instead of the SDK's own client on Node's `http` (which costs less CPU). */
  fetch?: typeof fetch;
}

/** A running worker. */
export interface WorkerHandle {
  /** Stops claiming and resolves once running jobs have finished. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly done: Promise<void>;
}

interface Claimed {
  job: Job;
  lease: { token: string; expires_at: string };
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Runs an agent's worker: claims jobs by long-polling (up to `concurrency` at once), runs `handler` on each,
 * keeps their leases alive with heartbeats, and reports the result or the failure. A requested cancel aborts
 * `ctx.signal`, and the worker confirms the cancel itself once the handler stops (or after a grace period).
 *
 * @example
 * runWorker({ agentId, token, concurrency: 4, handler: async (job, ctx) => {
 *   ctx.progress(50, 'halfway');
 *   return { answer: 42 };
 * }});
 */
export function runWorker(options: WorkerOptions): WorkerHandle {
  const transport: Transport = {
    url: options.url ?? 'http://127.0.0.1:8080',
    token: options.token,
    ...(options.fetch ? { fetch: options.fetch } : { exchange: nodeExchange }),
  };
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const leaseSeconds = options.leaseSeconds ?? 30;
  const waitSeconds = options.waitSeconds ?? 25;
  const workerId = options.workerId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
  const onError = options.onError ?? reportError;
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  let slotFreed: (() => void) | null = null;

  const loop = async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const free = concurrency - running.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      let claimed: Claimed[];
      try {
        const answer = await request<{ jobs: Claimed[] }>(transport, 'POST', `/v1/agents/${encodeURIComponent(options.agentId)}/claim`, {
          body: { max_jobs: free, wait_seconds: waitSeconds, lease_seconds: leaseSeconds, worker_id: workerId },
          signal: stopping.signal,
        });
        claimed = answer.jobs;
        failures = 0;
      } catch (error) {
        if (stopping.signal.aborted) break;
        onError(error);
        if (error instanceof AgentJobsError && (error.status === 401 || error.status === 403 || error.status === 404)) {
          // A revoked token or a deleted agent will not come back by retrying.
          break;
        }
        await sleep(Math.min(30_000, 500 * 2 ** failures++), stopping.signal);
        continue;
      }
      for (const item of claimed) {
        const run = runJob(transport, options, item, leaseSeconds, onError).finally(() => {
          running.delete(run);
          slotFreed?.();
          slotFreed = null;
        });
        running.add(run);
      }
    }
    await Promise.allSettled([...running]);
  };

  const done = loop();
  return {
    done,
    stop: async () => {
      stopping.abort();
      slotFreed?.();
      await done;
    },
  };
}

/**
 * The default `onError`: one line for the server's error answers and for network trouble (which the worker
 * retries, so a server restart does not fill the terminal with stack traces); the whole error otherwise.
 */
function reportError(error: unknown): void {
  if (!(error instanceof AgentJobsError)) console.error('agentjobs worker:', error);
  else console.error(`agentjobs worker: ${error.code === 'network_error' ? '' : `${error.code}: `}${error.message}`);
}

/** Runs one claimed job to its end: heartbeats, the handler, and the report. */
async function runJob(transport: Transport, options: WorkerOptions, claimed: Claimed, leaseSeconds: number, onError: (e: unknown) => void): Promise<void> {
  const { job } = claimed;
  const leaseToken = claimed.lease.token;
  const abort = new AbortController();
  let why: 'cancel' | 'lease_lost' | null = null;
  let tokens = 0;
  let progress: { percent?: number; message?: string } | undefined;
  let beatSoon: ReturnType<typeof setTimeout> | null = null;
  let dispatches = 0;
  const base = `/v1/jobs/${encodeURIComponent(job.id)}`;

  const stopWith = (reason: 'cancel' | 'lease_lost') => {
    if (why) return;
    why = reason;
    abort.abort(new JobAbortedError(job.id, reason === 'cancel' ? 'cancel_requested' : 'lease_lost'));
  };

  const heartbeat = async () => {
    if (why === 'lease_lost') return;
    const sent = progress;
    progress = undefined;
    try {
      const answer = await request<{ cancel_requested: boolean }>(transport, 'POST', `${base}/heartbeat`, {
        body: { lease_token: leaseToken, tokens_used: tokens, ...(sent ? { progress: sent } : {}) },
      });
      if (answer.cancel_requested) stopWith('cancel');
    } catch (error) {
      if (error instanceof AgentJobsError && error.code === 'lease_lost') stopWith('lease_lost');
      else onError(error);
    }
  };
  const soon = () => {
    beatSoon ??= setTimeout(() => {
      beatSoon = null;
      void heartbeat();
    }, 200);
  };
  const timer = setInterval(() => void heartbeat(), (leaseSeconds * 1000) / 3);

  const ctx: JobContext = {
    signal: abort.signal,
    attempt: job.attempt,
    progress: (percent, message) => {
      progress = { ...(percent !== undefined ? { percent } : {}), ...(message !== undefined ? { message } : {}) };
      soon();
    },
    reportTokens: (n) => {
      tokens += n;
      soon();
    },
    toolCall: async (tool, input) => {
      try {
        await request(transport, 'POST', `${base}/tool-calls`, { body: { lease_token: leaseToken, tool, ...(input !== undefined ? { input } : {}) } });
      } catch (error) {
        if (error instanceof AgentJobsError && error.code === 'tool_not_allowed') throw new ToolNotAllowedError(tool, error.message);
        throw error;
      }
    },
    dispatch: async (agentId, brief, dispatchOptions = {}) => {
      const key = dispatchOptions.idempotencyKey ?? `${job.id}:subjob:${dispatches++}`;
      const child = await request<{ id: string }>(transport, 'POST', `${base}/subjobs`, {
        idempotencyKey: key,
        body: {
          lease_token: leaseToken,
          agent_id: agentId,
          brief,
          ...(dispatchOptions.observers ? { observers: dispatchOptions.observers } : {}),
          ...(dispatchOptions.metadata ? { metadata: dispatchOptions.metadata } : {}),
          ...(dispatchOptions.onParentEnd ? { on_parent_end: dispatchOptions.onParentEnd } : {}),
        },
      });
      const wait = async (): Promise<Job> => {
        for (;;) {
          if (abort.signal.aborted) throw abort.signal.reason;
          let state: Job;
          try {
            state = await request<Job>(transport, 'POST', `${base}/subjobs/${child.id}/wait`, {
              body: { lease_token: leaseToken, wait_seconds: 25 },
              signal: abort.signal,
            });
          } catch (error) {
            // The wait may learn before a heartbeat that the job is no longer this worker's: stop it the same way.
            if (error instanceof AgentJobsError && error.code === 'lease_lost') stopWith('lease_lost');
            throw abort.signal.aborted ? abort.signal.reason : error;
          }
          if (TERMINAL.has(state.status)) return state;
        }
      };
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
          await request(transport, 'POST', `${base}/subjobs/${child.id}/cancel`, { body: { lease_token: leaseToken } });
        },
      };
    },
  };

  // A handler that ignores its signal still gets its cancel confirmed after this grace period.
  const grace = Math.min(10_000, (leaseSeconds * 1000) / 2);
  let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    const handled = Promise.resolve().then(() => options.handler(job, ctx));
    const abandoned = new Promise<never>((_, reject) =>
      abort.signal.addEventListener('abort', () => (graceTimer = setTimeout(() => reject(abort.signal.reason), grace)), { once: true }),
    );
    outcome = { ok: true, value: await Promise.race([handled, abandoned]) };
  } catch (error) {
    outcome = { ok: false, error };
  } finally {
    clearInterval(timer);
    clearTimeout(graceTimer);
    if (beatSoon) clearTimeout(beatSoon);
  }

  try {
    if (why === 'lease_lost') return;
    // Progress reported just before the handler returned is still waiting for its heartbeat: send it first.
    if (progress && why === null) await heartbeat();
    if (why === 'cancel') {
      await report(transport, `${base}/fail`, { lease_token: leaseToken, tokens_used: tokens, error: { code: 'cancelled', message: 'The worker stopped the job because its cancel was requested.' } });
      return;
    }
    if (outcome.ok) {
      try {
        await request(transport, 'POST', `${base}/complete`, { body: { lease_token: leaseToken, result: outcome.value ?? null, tokens_used: tokens } });
      } catch (error) {
        if (!(error instanceof AgentJobsError)) throw error;
        if (error.code === 'cancel_requested') {
          await report(transport, `${base}/fail`, { lease_token: leaseToken, tokens_used: tokens, error: { code: 'cancelled', message: 'Cancel confirmed on completion.' } });
        } else if (error.code === 'output_schema_mismatch') {
          // The same handler would produce the same result again: fail without retrying, saying what is wrong.
          await report(transport, `${base}/fail`, {
            lease_token: leaseToken,
            tokens_used: tokens,
            error: { code: 'output_schema_mismatch', message: refusedResultMessage(error) },
            retryable: false,
          });
        } else if (error.code !== 'lease_lost') throw error;
      }
      return;
    }
    const error = outcome.error;
    const nonRetryable = error instanceof NonRetryableError || error instanceof SubjobFailedError;
    await report(transport, `${base}/fail`, {
      lease_token: leaseToken,
      tokens_used: tokens,
      error: {
        code: error instanceof NonRetryableError && error.code ? error.code : error instanceof SubjobFailedError ? 'subjob_failed' : 'agent_error',
        message: error instanceof Error ? error.message || error.name : String(error),
      },
      retryable: !nonRetryable,
    });
  } catch (error) {
    onError(error);
  }
}

/** Sends a final report; a lost lease means someone else owns the job now, which is not an error here. */
async function report(transport: Transport, path: string, body: unknown): Promise<void> {
  try {
    await request(transport, 'POST', path, { body });
  } catch (error) {
    if (!(error instanceof AgentJobsError && error.code === 'lease_lost')) throw error;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * The message a job is failed with when the server refused its handler's result (422 `output_schema_mismatch`):
 * the server's own account of what does not match, without its advice to complete again — the job is failed
 * now — and short enough for the fail endpoint.
 */
function refusedResultMessage(error: AgentJobsError): string {
  return error.message.replace(` ${RESULT_REFUSED_ADVICE}`, '').slice(0, 2000);
}

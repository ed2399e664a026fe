import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AgentJobsError, request, type Transport } from './http.js';
import { JobRun, type Claimed } from './job-run.js';
import { nodeExchange } from './node-http.js';
import type { ArtifactView, Brief, InputRequest, Job, JobMessage, Observer } from './protocol/index.js';
import type { ArtifactInput, AskOptions } from './session.js';

export { AgentJobsError } from './http.js';
export {
  JobAbortedError,
  NonRetryableError,
  ReplayMismatchError,
  SubjobFailedError,
  ToolNotAllowedError,
  ToolNotApprovedError,
  WaitingForInputError,
} from './worker-errors.js';
export type { ArtifactInput, AskOptions } from './session.js';
export type { ArtifactView, Brief, InputRequest, Job, JobMessage } from './protocol/index.js';

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
  /**
   * Reports a tool call before making it; throws {@link ToolNotAllowedError} when the brief does not allow it. A
   * tool in `approval_required_tools` first waits for a person's approval, as {@link JobContext.ask} waits: then
   * the call returns (approved) or throws {@link ToolNotApprovedError} (denied).
   */
  toolCall(tool: string, input?: unknown): Promise<void>;
  /** Dispatches a subjob to another agent (or this one). */
  dispatch(agentId: string, brief: Brief, options?: DispatchOptions): Promise<SubjobHandle>;
  /**
   * Asks a person and resolves to the answer (the server checks it against `schema`). The first time, the job
   * waits — holding no lease, however long — and this run of the handler ends: the call throws
   * {@link WaitingForInputError}; let it propagate. After the answer any worker runs the handler again from its
   * start, and this call — the n-th question of the run — resolves at once to the n-th recorded answer. What that
   * asks of a handler: docs/interactive-jobs.md.
   */
  ask<T = unknown>(prompt: string, options?: AskOptions): Promise<T>;
  /** Asks a person to approve the use of `tool` (with `input`), and resolves to the decision; waits as {@link JobContext.ask} does. */
  requestApproval(tool: string, input?: unknown, options?: { prompt?: string; timeoutSeconds?: number }): Promise<{ approved: boolean; note?: string }>;
  /** True while the handler is before the last question a run before it had answered: skip what must not repeat. */
  readonly replaying: boolean;
  /** The job's input requests with their answers, oldest first, as the claim handed them. */
  readonly inputs: readonly InputRequest[];
  /** Messages sent to the job: those of the claim first, then each one a heartbeat brings, until the run ends. */
  readonly messages: AsyncIterable<JobMessage>;
  /** Appends text to the job's output (people watch it live): gathered, in order, and silent while replaying. */
  output(delta: string, options?: { stream?: string }): void;
  /** Stores a file of the job (text, JSON data or bytes); idempotent by its order in the run. */
  artifact(artifact: ArtifactInput): Promise<ArtifactView>;
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
        const run = new JobRun(transport, options, item, leaseSeconds, onError).run().finally(() => {
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

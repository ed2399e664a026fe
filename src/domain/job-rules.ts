import type { Constraints, JobStatus } from '@agentjobs/sdk/protocol';
import type { Limits } from './limits.js';
import type { Millis } from './time.js';

/** True for the statuses that never change again. */
export function isTerminal(status: JobStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** The timing fields that decide when the server must next act on a job by itself. */
export interface JobClock {
  status: JobStatus;
  lease_expires_at: Millis | null;
  deadline_at: Millis | null;
  queue_deadline_at: Millis | null;
  /** When the job's pending input request expires (it waits for a person), or null. */
  input_expires_at: Millis | null;
  /** From when a claim may take the job. A time still ahead is a timer: waiting workers are woken then. */
  ready_at: Millis | null;
}

/**
 * The one due time of a job: the earliest moment at which a timer fires for it (deadline, queue deadline, lease
 * expiry, the expiry of its pending input request, or a delayed job becoming ready), or null when none can. One
 * indexed column means one sweep finds every kind of timer.
 */
export function timerAt(job: JobClock, now: Millis): Millis | null {
  const candidates =
    job.status === 'queued'
      ? [job.queue_deadline_at, job.deadline_at, job.ready_at != null && job.ready_at > now ? job.ready_at : null]
      : job.status === 'running'
        ? [job.lease_expires_at, job.deadline_at, job.input_expires_at]
        : [];
  let earliest: Millis | null = null;
  for (const t of candidates) if (t != null && (earliest == null || t < earliest)) earliest = t;
  return earliest;
}

/**
 * The longest the timer sweep sleeps between looks (so a timer set in another process is noticed this late at
 * most); it wakes sooner only for a commit that sets a timer due before then.
 */
export const TIMER_SWEEP_MAX_SLEEP_MS = 500;

/**
 * Whether a commit that sets `timer` (earlier than the job's `previous` one) must wake the timer sweep: only when
 * it falls due before the sweep's next look anyway. A lease of 30 s, set by every claim, wakes nobody.
 */
export function wakesTimerSweep(timer: Millis | null, previous: Millis | null, now: Millis): boolean {
  return timer != null && timer < now + TIMER_SWEEP_MAX_SLEEP_MS && (previous == null || timer < previous);
}

/** What a fired timer means for a job. Deadlines win over lease expiry when both have passed. */
export type DueAction = 'timeout' | 'queue_timeout' | 'lease_expired' | 'input_timeout';

/** Which timer of this job has fired at `now`, if any. */
export function dueAction(job: JobClock, now: Millis): DueAction | null {
  if (job.deadline_at != null && job.deadline_at <= now && (job.status === 'queued' || job.status === 'running'))
    return 'timeout';
  if (job.status === 'queued' && job.queue_deadline_at != null && job.queue_deadline_at <= now) return 'queue_timeout';
  if (job.status === 'running' && job.lease_expires_at != null && job.lease_expires_at <= now) return 'lease_expired';
  if (job.status === 'running' && job.input_expires_at != null && job.input_expires_at <= now) return 'input_timeout';
  return null;
}

/**
 * True for a running job that no worker holds: it waits for a person (`waiting_for`), or it was answered and
 * waits for a worker to take it back (`ready_at`). Such a job is cancelled at once: nobody has to confirm.
 */
export function heldByNoWorker(job: { status: JobStatus; waiting_for: string | null; ready_at: Millis | null }): boolean {
  return job.status === 'running' && (job.waiting_for != null || job.ready_at != null);
}

/** What a parent passes down to a child: it can never outlive or outspend it. */
export interface ParentBounds {
  depth: number;
  deadline_at: Millis | null;
  token_budget: Millis | null;
  tokens_total: number;
  depth_limit: number;
}

/** The limits a new job runs under, resolved once at dispatch. */
export interface ResolvedLimits {
  depth: number;
  depthLimit: number;
  subjobLimit: number;
  maxAttempts: number;
  tokenBudget: number | null;
  deadlineAt: Millis | null;
  queueDeadlineAt: Millis | null;
  maxDurationMs: number | null;
  /** The brief's constraints with `max_tokens` lowered to what the parent has left, if it had to be. */
  constraints: Constraints | undefined;
}

/**
 * Resolves the limits of a job being dispatched, under a parent or as a root. A child inherits its parent's
 * deadline and remaining token budget; what it asks for beyond those is cut down to them.
 */
export function resolveLimits(
  constraints: Constraints | undefined,
  parent: ParentBounds | null,
  limits: Limits,
  now: Millis,
): ResolvedLimits {
  const c = constraints ?? {};
  const depth = parent ? parent.depth + 1 : 0;
  const serverDepthLimit = limits.maxDepth;
  const ownDepthLimit = c.max_depth != null ? depth + c.max_depth : serverDepthLimit;
  const depthLimit = Math.min(ownDepthLimit, parent ? parent.depth_limit : serverDepthLimit, serverDepthLimit);

  const parentRemaining =
    parent && parent.token_budget != null ? Math.max(0, parent.token_budget - parent.tokens_total) : null;
  const tokenBudget =
    parentRemaining == null ? (c.max_tokens ?? null) : Math.min(c.max_tokens ?? parentRemaining, parentRemaining);

  let resolved: Constraints | undefined = constraints;
  if (constraints && c.max_tokens != null && tokenBudget != null && tokenBudget !== c.max_tokens) {
    resolved = { ...constraints, max_tokens: tokenBudget };
  }

  return {
    depth,
    depthLimit,
    subjobLimit: Math.min(c.max_subjobs ?? limits.maxSubjobs, limits.maxSubjobs),
    maxAttempts: c.max_attempts ?? limits.defaultMaxAttempts,
    tokenBudget,
    deadlineAt: parent?.deadline_at ?? null,
    queueDeadlineAt: c.max_queue_seconds != null ? now + Math.round(c.max_queue_seconds * 1000) : null,
    maxDurationMs: c.max_duration_seconds != null ? Math.round(c.max_duration_seconds * 1000) : null,
    constraints: resolved,
  };
}

/** The deadline of a run starting at `now`: its own duration, never past an inherited deadline. */
export function deadlineOnStart(current: Millis | null, maxDurationMs: number | null, now: Millis): Millis | null {
  const own = maxDurationMs != null ? now + maxDurationMs : null;
  if (own == null) return current;
  return current == null ? own : Math.min(current, own);
}

/** True when a call of `tool` must wait for a person's approval (`approval_required_tools`). */
export function toolNeedsApproval(constraints: Constraints | undefined, tool: string): boolean {
  return constraints?.approval_required_tools?.includes(tool) ?? false;
}

/** True when `tool` may be called under these constraints (denied wins; no allow-list allows all). */
export function toolAllowed(constraints: Constraints | undefined, tool: string): boolean {
  if (constraints?.denied_tools?.includes(tool)) return false;
  if (constraints?.allowed_tools) return constraints.allowed_tools.includes(tool);
  return true;
}

/** The reasons a job can be cancelled, as they appear in its `error.code`. */
export type CancelCode = 'cancelled' | 'parent_cancelled' | 'parent_finished';

const CANCEL_MESSAGES: Record<CancelCode, string> = {
  cancelled: 'Cancelled at the request of a client.',
  parent_cancelled: 'Cancelled because an ancestor job was cancelled.',
  parent_finished: 'Cancelled because its parent job ended first.',
};

/** The `error` (JSON text) of a job cancelled for this reason. */
export function cancellationError(code: CancelCode): string {
  return JSON.stringify({ code, message: CANCEL_MESSAGES[code] });
}

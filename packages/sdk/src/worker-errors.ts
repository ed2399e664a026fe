import type { InputRequest, Job } from './protocol/index.js';

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

/** A person denied this call of a tool in `approval_required_tools`; `note` is what they said, if anything. */
export class ToolNotApprovedError extends Error {
  constructor(
    readonly tool: string,
    message: string,
    readonly note: string | null,
  ) {
    super(message);
    this.name = 'ToolNotApprovedError';
  }
}

/**
 * What `ctx.ask` (and `ctx.requestApproval`, and a `ctx.toolCall` that needs approval) throws when it has asked a
 * person: the job waits now, holding no lease, and this run of the handler ends here. Let it propagate — the
 * worker reports nothing, and after the answer a claim runs the handler again from its start (on any worker),
 * when the same call returns the answer.
 */
export class WaitingForInputError extends Error {
  constructor(
    readonly jobId: string,
    readonly request: InputRequest,
  ) {
    super(`Job ${jobId} waits for a person to answer input request ${request.id}; this run of the handler ends here.`);
    this.name = 'WaitingForInputError';
  }
}

/**
 * The handler asked something else, at this point of its run, than the run before it did: the recorded answers
 * no longer belong to its questions. The job fails (without a retry, which would ask the same way).
 */
export class ReplayMismatchError extends Error {
  readonly code = 'replay_mismatch';
  constructor(message: string) {
    super(message);
    this.name = 'ReplayMismatchError';
  }
}

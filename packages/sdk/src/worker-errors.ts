import type { Job } from './protocol/index.js';

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

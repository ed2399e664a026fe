/**
 * A model run that cannot succeed: the job fails with this `code` and `message` (and `details`, when the
 * failure has structure worth keeping, such as the validator's errors). `retryable` asks for another attempt
 * while attempts remain; most failures of a model run would fail the same way again, so it is false by default.
 */
export class ModelRunError extends Error {
  readonly details: unknown;
  readonly retryable: boolean;

  constructor(
    readonly code: string,
    message: string,
    options: { details?: unknown; retryable?: boolean } = {},
  ) {
    super(message);
    this.name = 'ModelRunError';
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Why a run was stopped from outside, before it finished:
 * - `cancel`: the job's cancel was requested (or the server failed it, e.g. over its token budget); the
 *   runtime confirms with `fail`, as the worker SDK does;
 * - `lease_lost`: the lease is gone (expired, re-leased, or the job ended): someone else owns the job now;
 * - `timeout`: the job's deadline passed; the server's timers fail it with `timeout`;
 * - `shutdown`: this server is stopping; the lease is left to expire so the job runs again elsewhere;
 * - `waiting`: the run asked a person (`ask_user`, or a tool that needs approval): the lease ended with the
 *   request, and the conversation waits with it in the store until a claim after the answer goes on with it.
 */
export type StopReason = 'cancel' | 'lease_lost' | 'timeout' | 'shutdown' | 'waiting';

/** The abort reason of a stopped run: every await of the run rejects with it. */
export class RunStopped extends Error {
  constructor(readonly reason: StopReason, jobId: string) {
    super(`model run of job ${jobId} stopped: ${reason}`);
    this.name = 'RunStopped';
  }
}

import { ERROR_STATUS, type ErrorCode } from '@agentjobs/sdk/protocol';

/**
 * The one error type of the server. `code` comes from the catalogue in the protocol's `errors.ts`; the HTTP layer
 * turns it into a status in exactly one place. Messages say what was wrong and how to fix it.
 */
export class JobsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'JobsError';
  }

  /** The HTTP status of this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A 404 that reads the same whether the id is unknown or belongs to another tenant. */
export function notFound(kind: 'job' | 'agent' | 'key' | 'message' | 'schedule' | 'batch', id: string): JobsError {
  const code = kind === 'message' ? 'message_not_found' : (`${kind}_not_found` as const);
  const what = kind === 'key' ? 'API key' : kind === 'message' ? 'webhook message' : kind;
  return new JobsError(code, `No ${what} with id '${truncate(id, 80)}' exists for this API key's tenant.`);
}

/** 409 `lease_lost`: the caller no longer holds the lease of this job. */
export function leaseLost(jobId: string, why: string): JobsError {
  return new JobsError(
    'lease_lost',
    `The lease on job ${jobId} is no longer held (${why}). Stop working on it: another attempt may own it now.`,
  );
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

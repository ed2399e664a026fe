import { JobsError } from '../../domain/jobs-error.js';

/** What the PostgreSQL driver makes of an error of a statement. */
export type PgFailure =
  /** The connection is gone or the server refuses work: nothing more can run on this connection. */
  | 'connection'
  /** The transaction lost a race (serialization failure, deadlock victim) and may simply run again. */
  | 'retry'
  /** A lock was not granted within the transaction's lock_timeout: run it again later. */
  | 'busy'
  /**
   * A named prepared statement of this connection no longer fits the table it reads (a migration changed the
   * columns of a `SELECT *` while this server ran): the connection must be dropped, and the work run again.
   */
  | 'stale_plan'
  /** Text that PostgreSQL cannot store (the NUL character), which SQLite accepts: the caller's input. */
  | 'bad_text'
  /** Anything else: a bug, or a constraint our code should have checked. */
  | 'other';

// Node's socket errors, and the driver's own messages for a connection that broke or could not be made.
const NODE_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const DRIVER_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'connection timeout',
];

/** Sorts an error thrown by `pg` into what the store does about it. */
export function classifyPgError(error: unknown): PgFailure {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === '40001' || code === '40P01') return 'retry';
  if (code === '55P03') return 'busy';
  // Class 08: connection exception. 57P01–57P03: the server is shutting down, crashed or starting. Class 53:
  // insufficient resources (too many connections, out of memory, disk full).
  if (code.startsWith('08') || /^57P0[1-3]$/.test(code) || code.startsWith('53')) return 'connection';
  if (NODE_CONNECTION_CODES.has(code)) return 'connection';
  if (code === '0A000' && message.includes('cached plan must not change result type')) return 'stale_plan';
  // 22021: "invalid byte sequence for encoding UTF8: 0x00" (a NUL in a text parameter); 22P05: a \u0000
  // escape that a JSON function cannot turn into text.
  if (code === '22021' || code === '22P05') return 'bad_text';
  if (code === '' && DRIVER_CONNECTION_MESSAGES.some((m) => message.includes(m))) return 'connection';
  return 'other';
}

/** The 503 a request gets when the database cannot be reached or gave up on the connection. */
export function unavailable(error: unknown, what = 'The database is unavailable'): JobsError {
  return new JobsError('unavailable', `${what}; retry shortly.`, { cause: String((error as Error)?.message ?? error) });
}

/** The 400 for text that PostgreSQL cannot store. */
export function badText(): JobsError {
  return new JobsError(
    'invalid_request',
    'A text field contains the NUL character (\\u0000), which the database cannot store; remove it from the request.',
  );
}

import type { Millis } from '../domain/time.js';

/**
 * Channels of the wake-ups that follow a commit. In one process they are in-memory callbacks; on PostgreSQL
 * they also cross processes through LISTEN/NOTIFY. A key narrows the channel (an agent id, a root job id).
 */
export type Channel =
  /** A job became claimable (dispatched, re-queued) or a concurrency slot of the agent freed. Key: agent id. */
  | 'agent'
  /** New events were written for a job tree. Key: the root job id. */
  | 'tree'
  /** New webhook messages are due. Key: their endpoint (origin), or '' for any. */
  | 'outbox'
  /** A job got an earlier timer than the sweeper may know about. Key: ''. */
  | 'timer'
  /** A credential was revoked; cached authentications must be dropped. Key: the token hash, or '*' for all. */
  | 'revoked'
  /** A tenant's webhook signing secrets changed; cached copies must be dropped. Key: the tenant id, or '*' for all. */
  | 'secrets';

/** The dialect differences that shared SQL must spell differently on each engine. */
export interface Dialect {
  readonly engine: 'sqlite' | 'postgres';
  /** Appended to a SELECT that must lock its rows until commit (PostgreSQL); empty on SQLite, whose writer is alone. */
  readonly forUpdate: string;
  /** Like forUpdate, but skipping rows other transactions hold (claims, sweeps, outbox drains). */
  readonly forUpdateSkipLocked: string;
  /** An expression for the text value of `key` (a bound parameter) in the JSON text column `column`. */
  jsonText(column: string): string;
}

/**
 * One open transaction. Every statement of a use case runs through it. SQL is written once with `?`
 * placeholders; the PostgreSQL driver numbers them.
 */
export interface Tx {
  /** Database time of this transaction, in milliseconds: leases and deadlines are decided by it. */
  readonly now: Millis;
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Queues a wake-up, sent once after this transaction commits (never if it rolls back). */
  notify(channel: Channel, key: string): void;
  /**
   * Facts read earlier in this transaction, shared by every write of its group commit, so that a batch of
   * dispatches to one agent reads the agent once. A repo function that remembers a fact here forgets it when
   * it changes what the fact says; the store empties the map whenever a write of the batch is rolled back.
   */
  readonly memo: Map<string, unknown>;
}

/** A write registered with {@link Store.follow}. */
export interface FollowingWrite<T> {
  /**
   * Settles once the write has run, returned something other than null, and its transaction committed (or once it
   * failed). A run that returns null leaves it waiting, unsettled.
   */
  readonly result: Promise<T>;
  /** Withdraws the write; false when it has already taken something or failed (then await `result`). */
  cancel(): boolean;
}

/** Persistence behind one interface: the SQLite file by default, PostgreSQL to scale out. */
export interface Store {
  readonly dialect: Dialect;
  /** Applies pending numbered migrations (safe while other processes run). */
  migrate(): Promise<void>;
  /**
   * Runs `fn` in a read-only view of committed data. `fn` must only await the store.
   */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a write transaction. Writes that arrive together are committed together (group commit: one
   * fsync for many requests), and one failing write never undoes another.
   * `fn` must only await the store — no network, no timers — and must be safe to run again: an engine may roll
   * a batch back and re-run its writes (SQLite, after a failure in a batch; PostgreSQL, after a deadlock). Only
   * the run that commits counts; its result is what the promise resolves to.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Subscribes to wake-ups on a channel, from this process and (PostgreSQL) from every other. */
  listen(channel: Channel, handler: (key: string) => void): () => void;
  /**
   * Registers `fn` to run as a write in the same transaction as the next write of this process that notifies
   * `channel`/`key`, right after it — so a worker waiting for a job gets it in the dispatch's own commit, one
   * fsync sooner than a wake-up followed by a write of its own. The writes following one key run one at a time,
   * oldest first: the next runs only after the one before it returned something other than null (there may be
   * more to take); once one returns null, it and the others stay registered for a later notification — so one
   * dispatch does not run the claim of every waiting worker, and a waiter need not wake for a notification: its
   * write is run whenever there may be something for it. Optional: an engine whose writes commit apart
   * (PostgreSQL) leaves it out, and callers rely on `listen()` alone.
   */
  follow?<T>(channel: Channel, key: string, fn: (tx: Tx) => Promise<T>): FollowingWrite<T>;
  /** Database time now, for code outside a transaction (long-poll deadlines, the sweeper's next wake). */
  now(): Promise<Millis>;
  close(): Promise<void>;
}

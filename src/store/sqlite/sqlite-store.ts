import Database from 'better-sqlite3';
import type { Millis } from '../../domain/time.js';
import { JobsError } from '../../domain/jobs-error.js';
import { loadMigrations } from '../migrations.js';
import type { Channel, Dialect, FollowingWrite, Store, Tx } from '../store.js';
import { LocalBus } from '../local-bus.js';

/** Options of the embedded SQLite store. */
export interface SqliteStoreOptions {
  /** Path of the database file. */
  path: string;
  /** The clock that stands for database time (tests may move it). @default Date.now */
  clock?: () => Millis;
  /** Most writes committed together in one transaction. @default 512 */
  maxBatch?: number;
}

/** Longest a write waits for others to join its batch while writes keep arriving. */
const GATHER_MS = 1;

const dialect: Dialect = {
  engine: 'sqlite',
  forUpdate: '',
  forUpdateSkipLocked: '',
  // The value as PostgreSQL's `->>` gives it: a string unquoted, any other scalar as its JSON text (`1`, `true`),
  // null as NULL. `json_extract` alone would give true as 1 and compare numbers as numbers, not text.
  jsonText: (column) =>
    // The key is quoted in the JSON path, its backslashes and double quotes escaped (`$."a\"b"` is the key a"b).
    `(SELECT CASE WHEN v = 'null' THEN NULL WHEN v LIKE '"%' THEN v ->> '$' ELSE v END FROM (SELECT ${column} -> ('$."' || replace(replace(?, '\\', '\\\\'), '"', '\\"') || '"') AS v))`,
};

interface BatchResult {
  /** Per write of the batch; `waiting` for a follower that found nothing and waits again, unsettled. */
  outcomes: Array<{ ok: boolean; value: unknown; waiting?: boolean }>;
  notes: Map<string, [Channel, string]>;
}

interface PendingWrite {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** For a write registered with follow(): the key it follows, once it has been handed a notification. */
  follows?: string;
}

/**
 * The embedded store: one better-sqlite3 connection in WAL mode with `synchronous=FULL`, so that a commit is
 * on disk before we answer. SQLite has one writer at a time; this process is it. Writes are queued and every
 * turn of the event loop commits all queued writes in one `BEGIN IMMEDIATE` transaction (group commit): one
 * fsync serves many requests, and because the transaction takes the write lock up front it cannot hit
 * SQLITE_BUSY half-way (a read-then-write transaction in WAL mode can, even with a busy timeout).
 */
export class SqliteStore implements Store {
  readonly dialect = dialect;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly clock: () => Millis;
  private readonly maxBatch: number;
  private readonly bus = new LocalBus();
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private batchActive = false;
  private waitingReads: Array<() => void> = [];
  /** Writes waiting for a notification of this process (see Store.follow), by channel and key. */
  private readonly followers = new Map<string, Set<PendingWrite>>();
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.maxBatch = options.maxBatch ?? 512;
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    // Another process (the `agentjobs keys create` command) may write to the same file now and then.
    this.db.pragma('busy_timeout = 5000');
    // SQLite's own page cache, 16 MiB: the operating system caches the file too, so a miss here costs a read from
    // memory, not from the disk. On a store of 300,000 jobs, 64 MiB held 48 MB more of resident memory for the same
    // GET and dispatch figures (docs/performance.md, "What was fixed").
    this.db.pragma('cache_size = -16384');
    // Savepoints (and large sorts) spill to temporary storage: keep it in memory, not in temp files.
    this.db.pragma('temp_store = MEMORY');
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
    );
    for (const migration of loadMigrations(new URL('./migrations/', import.meta.url))) {
      if (applied.has(migration.version)) continue;
      // BEGIN IMMEDIATE: a second process migrating at the same moment waits, then sees the version applied.
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const again = this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version);
        if (!again) {
          this.db.exec(migration.sql);
          this.db
            .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
            .run(migration.version, migration.name, this.clock());
        }
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    }
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    // A write batch awaits its writes one by one; a read slipping in between would see uncommitted rows of a
    // write that may still roll back. Reads wait for the batch to end.
    if (this.batchActive) await new Promise<void>((resolve) => this.waitingReads.push(resolve));
    return fn(this.makeTx(this.clock(), null));
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new JobsError('unavailable', 'The server is shutting down; retry on another server.'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.scheduleFlush();
    });
  }

  listen(channel: Channel, handler: (key: string) => void): () => void {
    return this.bus.listen(channel, handler);
  }

  follow<T>(channel: Channel, key: string, fn: (tx: Tx) => Promise<T>): FollowingWrite<T> {
    const id = `${channel}\u0000${key}`;
    let write!: PendingWrite;
    const result = new Promise<T>((resolve, reject) => {
      write = { fn, resolve: resolve as (value: unknown) => void, reject };
    });
    let set = this.followers.get(id);
    if (!set) this.followers.set(id, (set = new Set()));
    set.add(write);
    return {
      result,
      cancel: () => this.unfollow(id, write),
    };
  }

  async now(): Promise<Millis> {
    return this.clock();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.batchActive || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    this.db.close();
  }

  /** Runs a statement outside any batch: for tests and maintenance tools only. */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.batchActive) return;
    this.flushScheduled = true;
    // Gather the batch: each turn of the event loop reads every request that has arrived; while turns keep
    // bringing new writes (the server is busy), wait one more turn — at most GATHER_MS — so that one fsync
    // serves them all. When a turn brings nothing new (an idle server), commit at once.
    const started = performance.now();
    let seen = this.queue.length;
    const gather = () => {
      const grew = this.queue.length > seen;
      seen = this.queue.length;
      if (grew && seen < this.maxBatch && performance.now() - started < GATHER_MS) {
        setImmediate(gather);
        return;
      }
      this.flushScheduled = false;
      void this.flush();
    };
    setImmediate(gather);
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    const batch = this.queue.length > this.maxBatch ? this.queue.splice(0, this.maxBatch) : this.queue.splice(0);
    this.batchActive = true;
    let result: BatchResult;
    try {
      // Fast path: the whole batch in one transaction without savepoints (a savepoint makes SQLite copy every
      // page it touches into a sub-journal: it tripled the cost of an insert here). Should any write fail, the
      // batch is rolled back and run again with a savepoint per write, so that only the failing one is undone.
      // Writes must therefore be re-runnable — they only touch the store, which is their contract.
      const size = batch.length;
      result =
        (size > 1 && (await this.runBatch(batch, false))) || (this.restoreFollowers(batch, size), await this.runBatch(batch, true))!;
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of this batch is stored. Every write of it fails,
      // followers too — none stays registered once its caller has been told.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const write of batch) if (write.follows !== undefined) this.unfollow(write.follows, write);
      const failure = new JobsError('unavailable', 'The database could not store the change; retry shortly.', {
        cause: String((error as Error).message ?? error),
      });
      result = { outcomes: batch.map(() => ({ ok: false, value: failure })), notes: new Map() };
    } finally {
      this.batchActive = false;
      const reads = this.waitingReads;
      this.waitingReads = [];
      for (const wake of reads) wake();
    }
    const { outcomes, notes } = result;
    batch.forEach((write, i) => {
      const outcome = outcomes[i];
      if (outcome.waiting) return;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    });
    for (const [channel, key] of notes.values()) this.bus.emit(channel, key);
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /**
   * Runs a batch in one transaction. Without `careful`, the first failing write rolls everything back and the
   * answer is null (run it again carefully); with it, each write has its own savepoint. Writes that follow a
   * notification (Store.follow) are appended to the batch as the notification is made.
   */
  private async runBatch(batch: PendingWrite[], careful: boolean): Promise<BatchResult | null> {
    const notes = new Map<string, [Channel, string]>();
    const outcomes: BatchResult['outcomes'] = [];
    this.db.exec('BEGIN IMMEDIATE');
    const now = this.clock();
    const memo = new Map<string, unknown>();
    // Keys whose next follower is already in the batch and has not run yet: another notification adds none.
    const handing = new Set<string>();
    for (const write of batch) {
      if (write.follows !== undefined) handing.delete(write.follows);
      const mine = new Map<string, [Channel, string]>();
      // A lone write needs no savepoint: if it fails, the whole transaction is its own. (A write that follows it,
      // appended below, gets one: the batch is no longer lone by then.)
      const savepoints = careful && batch.length > 1;
      if (savepoints) this.db.exec('SAVEPOINT w');
      try {
        const value = await write.fn(this.makeTx(now, mine, memo));
        if (savepoints) this.db.exec('RELEASE w');
        // A follower that took something hands over to the next one (there may be more); one that found nothing
        // leaves the rest waiting, and waits again itself, first in line: its caller is not woken for nothing.
        const foundNothing = write.follows !== undefined && value === null;
        if (write.follows !== undefined && !foundNothing) this.handOver(write.follows, batch, handing);
        for (const [k, v] of mine) {
          notes.set(k, v);
          this.handOver(k, batch, handing);
        }
        if (foundNothing) this.refollow(write.follows!, write);
        outcomes.push({ ok: true, value, waiting: foundNothing });
      } catch (error) {
        if (!careful) {
          this.db.exec('ROLLBACK');
          return null;
        }
        this.db.exec(savepoints ? 'ROLLBACK TO w; RELEASE w' : 'ROLLBACK');
        memo.clear();
        outcomes.push({ ok: false, value: error });
        if (!savepoints) break;
        // A follower that failed took nothing: the next one may (its caller gets this one's error).
        if (write.follows !== undefined) this.handOver(write.follows, batch, handing);
      }
    }
    if (this.db.inTransaction) this.db.exec('COMMIT');
    return { outcomes, notes };
  }

  /**
   * Appends the oldest write following `key` to the batch (the loop reaches what is pushed), unless one already
   * waits there to run.
   */
  private handOver(key: string, batch: PendingWrite[], handing: Set<string>): void {
    if (handing.has(key)) return;
    const next = this.followers.get(key)?.values().next().value;
    if (!next) return;
    this.unfollow(key, next);
    next.follows = key;
    handing.add(key);
    batch.push(next);
  }

  /** Takes `write` off the writes following `key`; false when it was not there. */
  private unfollow(key: string, write: PendingWrite): boolean {
    const waiting = this.followers.get(key);
    if (!waiting?.delete(write)) return false;
    if (waiting.size === 0) this.followers.delete(key);
    return true;
  }

  /** Puts `write` back first among the writes following `key`: it was the oldest when it was handed over. */
  private refollow(key: string, write: PendingWrite): void {
    this.followers.set(key, new Set([write, ...(this.followers.get(key) ?? [])]));
  }

  /**
   * Before a batch runs again: the followers its first run appended (from `size` on) wait again as they did before
   * it, so that the new run hands them over afresh and none runs twice.
   */
  private restoreFollowers(batch: PendingWrite[], size: number): void {
    const appended = batch.splice(size);
    for (let i = appended.length - 1; i >= 0; i--) this.refollow(appended[i]!.follows!, appended[i]!);
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private makeTx(now: Millis, notes: Map<string, [Channel, string]> | null, memo = new Map<string, unknown>()): Tx {
    return {
      now,
      dialect,
      memo,
      all: async <T>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly unknown[] = []) => this.prepare(sql).run(...params).changes,
      notify: (channel: Channel, key: string) => {
        if (!notes) throw new Error('notify() is only available in a write transaction');
        notes.set(`${channel}\u0000${key}`, [channel, key]);
      },
    };
  }
}

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Millis } from '../../domain/time.js';
import { JobsError } from '../../domain/jobs-error.js';
import { loadMigrations } from '../migrations.js';
import { LocalBus } from '../local-bus.js';
import type { Channel, Dialect, Store, Tx } from '../store.js';
import { badText, classifyPgError, unavailable, type PgFailure } from './pg-errors.js';
import { pgStatement } from './statements.js';
import { encodePayloads, NotificationListener, PG_CHANNELS } from './notifications.js';

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /**
   * `postgres://user:password@host:port/database?…`. Besides what `pg` understands, `pool_size=N` sets the
   * size of the connection pool.
   */
  connectionString: string;
  /** Connections in the pool, shared by reads and write transactions (one more is used for LISTEN). @default 10 */
  poolSize?: number;
  /**
   * Write transactions this process runs at once, each on its own connection. @default 1 — like SQLite's single
   * writer, per process: the batches of one process would mostly contend for the same rows (the agent a claim
   * locks, the root whose event counter a transition bumps), and in the three-server scale-out run on a two-core
   * machine two lanes per process were slower and let more leases lapse than one. Processes add the
   * concurrency.
   */
  lanes?: number;
  /**
   * Most writes committed together in one transaction. @default 64 — each write of a batch runs in its own
   * savepoint, and a transaction with more than 64 subtransactions that wrote overflows PostgreSQL's per-backend
   * subtransaction cache, which slows every other session's snapshots while it runs.
   */
  maxBatch?: number;
  /**
   * A clock that runs ahead of (or behind) the process clock — tests move time with it. Only its distance from
   * `Date.now()` is used, added to database time: the database clock stays the base, so processes still agree.
   * @default Date.now (no offset)
   */
  clock?: () => Millis;
  /** Told about trouble the store survives (a dropped LISTEN connection, an idle connection that broke). */
  onError?: (error: unknown, context: string) => void;
}

const dialect: Dialect = {
  engine: 'postgres',
  // NO KEY: we lock rows to change columns that are not keys, which is the lock an UPDATE takes anyway. A plain
  // FOR UPDATE would also block the FOR KEY SHARE lock that every foreign-key check takes on the row it points
  // to: each dispatch (jobs.agent_id → agents) would queue behind every claim holding its agent, and each subjob
  // insert (jobs.parent_job_id → jobs) behind every heartbeat of its parent.
  forUpdate: ' FOR NO KEY UPDATE',
  forUpdateSkipLocked: ' FOR NO KEY UPDATE SKIP LOCKED',
  // `json`, not `jsonb`: it only parses the document, where a jsonb cast would also refuse a \u0000 anywhere in it.
  // The explicit ::text picks the `->> text` operator rather than `->> integer`.
  jsonText: (column) => `(${column}::json ->> ?::text)`,
};

// Milliseconds since the epoch, by the database clock. clock_timestamp(), not now(): now() is the start of the
// transaction, and a write late in a batch (or one that waited for a lock) must not grant a lease that is
// already partly spent. Each write reads it once, before its first statement: that is its `tx.now`.
const CLOCK_SQL = 'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now';

// pg_advisory_lock keys of `agentjobs migrate` (two int4: 'agjb' and 1). Session-level: released when the
// migrating process disconnects, even if it dies half-way.
const MIGRATION_LOCK = [0x61676a62, 1] as const;

/** How many times a write that lost a deadlock or serialization race is run again before a 503. */
const MAX_RETRIES = 8;

/**
 * How long a write may wait for a row lock once its batch already holds locks of earlier writes. Two batches
 * that each hold rows the other wants would otherwise deadlock, and PostgreSQL only looks for deadlocks after
 * `deadlock_timeout` (1 s by default) while everything queued behind both waits too. So only the first kept
 * write of a batch waits as long as it must (it holds nothing of the others'); a later write that meets a lock
 * held elsewhere gives up after this long, rolls back to its savepoint and goes back to the head of the queue,
 * where it will be the first write of a coming batch. A batch can therefore never wait on another while
 * holding locks that the other needs, except for this short while.
 */
const LOCK_WAIT_MS = 20;
/** After this many writes of one batch gave up on a lock, the rest of the batch goes back to the queue untried. */
const MAX_BUSY_PER_BATCH = 3;
/** How long the read path trusts the last measured distance between the process clock and the database clock. */
const CLOCK_SAMPLE_MS = 5000;

interface PendingWrite {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  retries: number;
}

/** What went wrong in one unit of work (a write of a batch, or a read). */
interface WorkState {
  failure: PgFailure | null;
  /** The error the caller sees (a JobsError for the failures we translate). */
  error: unknown;
  /** The driver's own error, for the store's decisions. */
  raw: unknown;
}

// int8 (COUNT, BIGINT columns) arrives as text by default, because it can exceed 2^53. Our BIGINTs are
// millisecond times, token counts and sequence numbers, all far below that: parse them as numbers.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/**
 * The store on PostgreSQL, for any number of server processes on one database.
 *
 * Writes use group commit, as on SQLite: the writes queued in one turn of the event loop run in one transaction,
 * each inside its own savepoint (a failing write rolls back to it and never undoes another), so one commit —
 * one WAL flush — serves them all. While a batch runs, new writes queue for the next one (or for another
 * "lane", when more than one is configured). Each write's `now` is the database clock as it starts: leases,
 * deadlines and retries are decided by the clock every process shares.
 *
 * A write that loses a deadlock (40P01) or serialization race (40001), or gives up waiting for a lock (see
 * LOCK_WAIT_MS), is rolled back to its savepoint and run again in a later batch, once this batch's locks are
 * released: its promise settles only after a commit that includes it, so it can never apply twice.
 *
 * Wake-ups (`tx.notify`) are collected per batch and sent in the transaction as one `pg_notify` per channel,
 * carrying all the batch's keys: PostgreSQL serialises the commits of notifying transactions (a global lock held
 * through the commit's flush), so notifying once per batch instead of once per row keeps that cost flat. This
 * process's listeners are woken right after the commit; other processes receive the NOTIFY on their LISTEN
 * connection.
 */
export class PostgresStore implements Store {
  readonly dialect = dialect;
  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly lanes: number;
  private readonly maxBatch: number;
  private readonly skew: () => Millis;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly bus = new LocalBus();
  private readonly origin = randomUUID();
  private listener: NotificationListener | null = null;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  private activeLanes = 0;
  private closed = false;
  private drained: (() => void) | null = null;
  /** Database time minus process time, as last measured, and when. */
  private clockOffset = 0;
  private clockSampledAt = -Infinity;

  constructor(options: PostgresStoreOptions) {
    const { connectionString, poolSize } = splitPoolSize(options.connectionString);
    this.config = {
      connectionString,
      types,
      // Shows up in pg_stat_activity; a connection string's own application_name wins.
      application_name: 'agentjobs',
      keepAlive: true,
    };
    this.lanes = Math.max(1, options.lanes ?? 1);
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
    const max = Math.max(this.lanes + 1, options.poolSize ?? poolSize ?? 10);
    this.pool = new pg.Pool({ ...this.config, max, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
    this.onError = options.onError ?? (() => {});
    // An idle pooled connection that breaks (server restart, network) emits 'error' on the pool; pg removes it,
    // and an unhandled 'error' event would end the process.
    this.pool.on('error', (error) => this.onError(error, 'an idle database connection broke'));
    const clock = options.clock;
    this.skew = clock && clock !== Date.now ? () => clock() - Date.now() : () => 0;
  }

  async migrate(): Promise<void> {
    const client = await this.connect();
    try {
      // Several processes may start (or `agentjobs migrate`) at once: they take turns, and the later ones find
      // the versions applied.
      await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
      try {
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
        );
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const migration of loadMigrations(new URL('./migrations/', import.meta.url))) {
          if (applied.has(migration.version)) continue;
          await applyMigration(client, migration);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
      }
      client.release();
    } catch (error) {
      client.release(true);
      if (classifyPgError(error) === 'connection') throw unavailable(error);
      throw error;
    }
  }

  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw shuttingDown();
    // A read may run again once: a migration can invalidate a prepared statement of its connection.
    for (let attempt = 0; ; attempt++) {
      const client = await this.connect();
      const state: WorkState = { failure: null, error: null, raw: null };
      let drop = false;
      try {
        const now = await this.readNow(client);
        const value = await fn(this.makeTx(client, now, state, null));
        if (state.failure) throw state.error;
        return value;
      } catch (error) {
        // A connection that broke (also while reading the clock) or holds stale prepared statements is closed.
        drop = state.failure === 'connection' || state.failure === 'stale_plan' || (error instanceof JobsError && error.code === 'unavailable');
        if (state.failure === 'stale_plan' && attempt === 0) continue;
        throw error;
      } finally {
        client.release(drop);
      }
    }
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(shuttingDown());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject, retries: 0 });
      this.scheduleFlush();
    });
  }

  listen(channel: Channel, handler: (key: string) => void): () => void {
    // The LISTEN connection opens with the first listener: commands that only migrate or create a key need none.
    this.listener ??= new NotificationListener({
      // Named apart from the pool's connections, so that pg_stat_activity shows which one listens.
      config: { ...this.config, application_name: 'agentjobs-listen' },
      origin: this.origin,
      deliver: (ch, keys) => {
        for (const key of keys) this.bus.emit(ch, key);
      },
      connected: () => void this.catchUp(),
      onError: (error) => this.onError(error, 'the LISTEN connection failed; reconnecting'),
    });
    return this.bus.listen(channel, handler);
  }

  async now(): Promise<Millis> {
    if (this.closed) throw shuttingDown();
    try {
      const sentAt = Date.now();
      const { rows } = await this.pool.query<{ now: number }>(CLOCK_SQL);
      this.sampleClock(rows[0].now, sentAt);
      return rows[0].now + this.skew();
    } catch (error) {
      throw classifyPgError(error) === 'connection' ? unavailable(error) : error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.activeLanes > 0 || this.queue.length > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.listener?.stop();
    await this.pool.end();
  }

  // ---- group commit -------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate: every write that arrives in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      while (this.activeLanes < this.lanes && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.activeLanes++;
        void this.runBatch(batch).finally(() => {
          this.activeLanes--;
          if (this.queue.length > 0) this.scheduleFlush();
          else if (this.activeLanes === 0) this.drained?.();
        });
      }
    });
  }

  private async runBatch(batch: PendingWrite[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.connect();
    } catch (error) {
      for (const write of batch) write.reject(error);
      return;
    }
    const outcomes: Array<{ write: PendingWrite; ok: boolean; value: unknown }> = [];
    const again: PendingWrite[] = [];
    const notes = new Map<Channel, Set<string>>();
    const single = batch.length === 1;
    const memo = new Map<string, unknown>();
    let drop = false;
    let committing = false;
    try {
      let previousKept = false;
      let limited = false;
      let rolledBack = false;
      let busy = 0;
      for (const [i, write] of batch.entries()) {
        if (busy >= MAX_BUSY_PER_BATCH) {
          // Other transactions hold what this batch needs: commit what is done, run the rest later.
          again.push(write);
          continue;
        }
        // One round trip before each write: open the transaction (first write), keep the previous write by
        // releasing its savepoint, limit lock waits once this batch holds locks (see LOCK_WAIT_MS), set this
        // write's savepoint, and read the database clock. After a write rolled back to its savepoint, the
        // savepoint is still there and the next write runs inside it.
        let prologue = i === 0 ? 'BEGIN; ' : '';
        if (!single) {
          if (previousKept) prologue += 'RELEASE SAVEPOINT w; ';
          if (previousKept && !limited) {
            prologue += `SET LOCAL lock_timeout = '${LOCK_WAIT_MS}ms'; `;
            limited = true;
          }
          if (i === 0 || previousKept) prologue += 'SAVEPOINT w; ';
        }
        const sentAt = Date.now();
        const results = (await client.query(prologue + CLOCK_SQL)) as unknown as pg.QueryResult | pg.QueryResult[];
        const clock = Number((Array.isArray(results) ? results[results.length - 1] : results).rows[0].now);
        this.sampleClock(clock, sentAt);
        const now = clock + this.skew();

        const state: WorkState = { failure: null, error: null, raw: null };
        const mine = new Map<Channel, Set<string>>();
        let value: unknown;
        let ok: boolean;
        try {
          value = await write.fn(this.makeTx(client, now, state, mine, memo));
          // A statement failed but `fn` went on: PostgreSQL has aborted the (sub)transaction all the same.
          ok = state.failure == null;
          if (!ok) value = state.error;
        } catch (error) {
          ok = false;
          value = state.failure ? state.error : error;
        }
        if (state.failure === 'connection') throw state.raw;
        if (state.failure === 'stale_plan') drop = true;
        previousKept = ok;
        if (ok) {
          for (const [channel, keys] of mine) for (const key of keys) addNote(notes, channel, key);
          outcomes.push({ write, ok, value });
          continue;
        }
        memo.clear();
        if (single) {
          await client.query('ROLLBACK');
          rolledBack = true;
        } else {
          await client.query('ROLLBACK TO SAVEPOINT w');
        }
        if (state.failure === 'busy') {
          // Not counted as a retry: at the head of the queue it will be the first write of a batch, which waits.
          busy++;
          again.push(write);
        } else if ((state.failure === 'retry' || state.failure === 'stale_plan') && write.retries < MAX_RETRIES) {
          write.retries++;
          again.push(write);
        } else if (state.failure === 'retry') {
          outcomes.push({ write, ok: false, value: unavailable(state.error, 'The database kept aborting this change to resolve lock conflicts') });
        } else {
          outcomes.push({ write, ok: false, value });
        }
      }
      if (!rolledBack) {
        committing = true;
        // The NOTIFYs go in the same round trip as the COMMIT, inside the transaction: sent if and only if it
        // commits. The lock PostgreSQL takes to queue them is waited for like any other: no lock_timeout here.
        await client.query(`${limited ? 'SET LOCAL lock_timeout = 0; ' : ''}${this.notifySql(client, notes)}COMMIT`);
      }
    } catch (error) {
      // BEGIN, a savepoint, the NOTIFY or the COMMIT failed, or the connection broke: nothing of this batch is
      // stored — except when the connection broke during COMMIT, when nobody can know.
      const failure = classifyPgError(error);
      drop = true;
      notes.clear();
      const writes = [...batch];
      if (failure === 'retry' || failure === 'busy' || (failure === 'connection' && !committing)) {
        // Rolled back for certain: run every write again (after a broken connection only once, on a fresh one).
        const retriable = writes.filter((w) => w.retries < (failure === 'connection' ? 1 : MAX_RETRIES));
        for (const write of retriable) write.retries++;
        for (const write of writes) if (!retriable.includes(write)) write.reject(unavailable(error));
        this.requeue(retriable);
        return;
      }
      const answer =
        failure === 'connection'
          ? unavailable(error, 'The connection to the database broke while committing; the change may or may not be stored')
          : unavailable(error, 'The database could not store the change');
      for (const write of writes) write.reject(answer);
      return;
    } finally {
      // A connection that broke, or whose prepared statements went stale, is closed rather than reused.
      client.release(drop);
    }
    for (const { write, ok, value } of outcomes) (ok ? write.resolve : write.reject)(value);
    for (const [channel, keys] of notes) for (const key of keys) this.bus.emit(channel, key);
    this.requeue(again);
  }

  /** Puts writes that must run again at the head of the queue (they were first to arrive). */
  private requeue(writes: PendingWrite[]): void {
    if (writes.length === 0) return;
    this.queue.unshift(...writes);
    this.scheduleFlush();
  }

  /** `SELECT pg_notify(…), …;` with one call per channel and payload, or '' when there is nothing to send. */
  private notifySql(client: pg.PoolClient, notes: Map<Channel, Set<string>>): string {
    const calls: string[] = [];
    for (const [channel, keys] of notes) {
      for (const payload of encodePayloads(this.origin, keys)) calls.push(`pg_notify('${PG_CHANNELS[channel]}', ${client.escapeLiteral(payload)})`);
    }
    return calls.length > 0 ? `SELECT ${calls.join(', ')}; ` : '';
  }

  // ---- statements ---------------------------------------------------------------------------------------

  private makeTx(
    client: pg.PoolClient,
    now: Millis,
    state: WorkState,
    notes: Map<Channel, Set<string>> | null,
    memo = new Map<string, unknown>(),
  ): Tx {
    // One connection runs one statement at a time. Statements a use case starts together (Promise.all) are
    // chained here rather than left to the driver's own queue, which pg deprecates.
    let tail: Promise<unknown> = Promise.resolve();
    const query = async (sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult> => {
      const { text, name } = pgStatement(sql);
      const execute = () => client.query({ text, name, values: params as unknown[] });
      const run = tail.then(execute, execute);
      tail = run.catch(() => {});
      try {
        return await run;
      } catch (error) {
        const failure = classifyPgError(error);
        // The first failure is the one that counts: after it PostgreSQL refuses every statement until rollback.
        if (!state.failure) {
          state.failure = failure;
          state.raw = error;
          state.error = failure === 'connection' ? unavailable(error) : failure === 'bad_text' ? badText() : error;
        }
        throw state.error;
      }
    };
    return {
      now,
      dialect,
      memo,
      all: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows as T[],
      get: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows[0] as T | undefined,
      run: async (sql: string, params?: readonly unknown[]) => (await query(sql, params)).rowCount ?? 0,
      notify: (channel: Channel, key: string) => {
        if (!notes) throw new Error('notify() is only available in a write transaction');
        addNote(notes, channel, key);
      },
    };
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
  }

  // ---- database time ------------------------------------------------------------------------------------

  /**
   * `now` of a read. A read decides nothing that lasts (every lease, deadline and retry is decided in a write,
   * by that transaction's own database time), so it uses the distance between the process clock and the
   * database clock measured by the last write or `now()` — refreshed here when older than a few seconds —
   * instead of spending a round trip on every read.
   */
  private async readNow(client: pg.PoolClient): Promise<Millis> {
    if (Date.now() - this.clockSampledAt > CLOCK_SAMPLE_MS) {
      const sentAt = Date.now();
      try {
        const { rows } = await client.query<{ now: number }>(CLOCK_SQL);
        this.sampleClock(rows[0].now, sentAt);
      } catch (error) {
        throw classifyPgError(error) === 'connection' ? unavailable(error) : error;
      }
    }
    return Date.now() + this.clockOffset + this.skew();
  }

  private sampleClock(dbNow: Millis, sentAt: Millis): void {
    const receivedAt = Date.now();
    // The database read its clock somewhere during the round trip: assume the middle.
    this.clockOffset = dbNow - Math.round((sentAt + receivedAt) / 2);
    this.clockSampledAt = receivedAt;
  }

  // ---- wake-ups -----------------------------------------------------------------------------------------

  /**
   * Runs when LISTEN is (re-)established. Notifications sent while no connection listened are lost; waking the
   * timer and delivery loops and every agent with queued jobs lets waiting claims and loops look again, and
   * cached credentials and signing secrets are dropped, as a revocation or rotation may have been missed.
   * (Event streams look again on their own at every keep-alive.)
   */
  private async catchUp(): Promise<void> {
    if (this.closed) return;
    try {
      const { rows } = await this.pool.query<{ agent_id: string }>(
        'SELECT DISTINCT agent_id FROM jobs WHERE ready_at IS NOT NULL LIMIT 10000',
      );
      this.bus.emit('timer', '');
      this.bus.emit('outbox', '');
      this.bus.emit('revoked', '*');
      this.bus.emit('secrets', '*');
      for (const row of rows) this.bus.emit('agent', row.agent_id);
    } catch (error) {
      // Before the first migration there is no jobs table yet; nothing can have been missed then.
      if ((error as { code?: string }).code !== '42P01') this.onError(error, 'could not look for wake-ups missed while reconnecting');
    }
  }
}

/** Runs one migration in its own transaction, retrying when it cannot get its locks quickly. */
async function applyMigration(client: pg.PoolClient, migration: { version: number; name: string; sql: string }): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await client.query('BEGIN');
    try {
      // A DDL statement waiting for a lock makes every later query on that table wait behind it: with servers
      // running, wait a few seconds at most, give the locks back, and try again.
      await client.query("SET LOCAL lock_timeout = '5s'");
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, floor(extract(epoch FROM now()) * 1000))', [
        migration.version,
        migration.name,
      ]);
      await client.query('COMMIT');
      return;
    } catch (error) {
      await client.query('ROLLBACK');
      if ((error as { code?: string }).code !== '55P03' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function addNote(notes: Map<Channel, Set<string>>, channel: Channel, key: string): void {
  let keys = notes.get(channel);
  if (!keys) notes.set(channel, (keys = new Set()));
  keys.add(key);
}

function shuttingDown(): JobsError {
  return new JobsError('unavailable', 'The server is shutting down; retry on another server.');
}

/** Takes our own `pool_size` parameter out of a connection string (pg would ignore it, but it is ours). */
function splitPoolSize(connectionString: string): { connectionString: string; poolSize: number | undefined } {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return { connectionString, poolSize: undefined };
  }
  const raw = url.searchParams.get('pool_size');
  if (raw == null) return { connectionString, poolSize: undefined };
  const poolSize = Number(raw);
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`pool_size in the database URL must be a whole number ≥ 1, got '${raw}'`);
  url.searchParams.delete('pool_size');
  return { connectionString: url.toString(), poolSize };
}

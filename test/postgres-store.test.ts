import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobsError } from '../src/domain/jobs-error.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { numberPlaceholders } from '../src/store/postgres/statements.js';
import { encodePayloads, decodePayload } from '../src/store/postgres/notifications.js';
import { insertTenant } from '../src/store/repo/auth-repo.js';
import { createDatabase, dropDatabase } from './support/engines.js';
import { eventually } from './support/fixtures.js';

// What only the PostgreSQL driver does: several processes (here: several stores) on one database.

describe('the PostgreSQL statement translation', () => {
  it('numbers ? placeholders in order, leaving quoted text and comments alone', () => {
    const sql = `SELECT '?', "odd?name", ? -- why?\n FROM t /* ? */ WHERE a = ? AND b = 'it''s ?' AND c IN (?, ?)`;
    expect(numberPlaceholders(sql)).toBe(`SELECT '?', "odd?name", $1 -- why?\n FROM t /* ? */ WHERE a = $2 AND b = 'it''s ?' AND c IN ($3, $4)`);
  });

  it('splits many keys over NOTIFY payloads under 8000 bytes, each naming its sender', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `job_01hx${String(i).padStart(22, '0')}`);
    const payloads = encodePayloads('origin-1', keys);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8000);
    const decoded = payloads.map(decodePayload);
    expect(decoded.every((d) => d.origin === 'origin-1')).toBe(true);
    expect(decoded.flatMap((d) => d.keys)).toEqual(keys);
    expect(decodePayload(encodePayloads('o', [''])[0])).toEqual({ origin: 'o', keys: [''] });
  });
});

describe('the PostgreSQL store', () => {
  let url: string;
  let a: PostgresStore;
  let b: PostgresStore;
  let raw: pg.Client;
  beforeAll(async () => {
    url = await createDatabase();
    a = new PostgresStore({ connectionString: url });
    b = new PostgresStore({ connectionString: url });
    await Promise.all([a.migrate(), b.migrate()]);
    raw = new pg.Client({ connectionString: url });
    await raw.connect();
    await raw.query('CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await raw.query('INSERT INTO counters VALUES (1, 0), (2, 0)');
  });
  // A test that fails half-way must not leave `raw` inside its transaction for the next ones.
  afterEach(async () => {
    await raw.query('ROLLBACK').catch(() => {});
  });
  afterAll(async () => {
    await raw.end();
    await Promise.all([a.close(), b.close()]);
    await dropDatabase(url);
  });

  it("wakes another process's listeners with every key of a batch, in one NOTIFY per channel, and its own once", async () => {
    const seenByB: string[] = [];
    const seenByA: string[] = [];
    // Only this test's keys count: NOTIFYs of the warm-up may still be arriving.
    let bListening = false;
    const stopWarmUp = b.listen('tree', (key) => key === 'warm-up' && (bListening = true));
    const stopB = b.listen('tree', (key) => key.startsWith('root-') && seenByB.push(key));
    const stopA = a.listen('tree', (key) => key.startsWith('root-') && seenByA.push(key));
    const spy = new pg.Client({ connectionString: url });
    await spy.connect();
    const notifies: string[] = [];
    // Only the payloads of this test's batch (warm-up NOTIFYs may still be arriving).
    spy.on('notification', (n) => n.payload?.includes('root-') && notifies.push(n.payload));
    await spy.query('LISTEN agentjobs_tree');
    try {
      // Let b's LISTEN connection come up.
      await eventually(async () => {
        await a.write(async (tx) => tx.notify('tree', 'warm-up'));
        return bListening;
      }, 10_000, 100);
      await Promise.all([
        a.write(async (tx) => tx.notify('tree', 'root-1')),
        a.write(async (tx) => {
          tx.notify('tree', 'root-2');
          tx.notify('tree', 'root-1');
        }),
        a.write(async (tx) => tx.notify('tree', 'root-3')),
      ]);
      await eventually(() => seenByB.length === 3, 5000);
      expect(seenByB.sort()).toEqual(['root-1', 'root-2', 'root-3']);
      await eventually(() => notifies.length >= 1, 5000);
      await new Promise((r) => setTimeout(r, 200));
      expect(notifies).toHaveLength(1);
      expect(decodePayload(notifies[0]).keys.sort()).toEqual(['root-1', 'root-2', 'root-3']);
      // a heard its own wake-ups right after its commit, and did not hear them again through NOTIFY.
      await new Promise((r) => setTimeout(r, 200));
      expect(seenByA.sort()).toEqual(['root-1', 'root-2', 'root-3']);
    } finally {
      stopA();
      stopB();
      stopWarmUp();
      await spy.end();
    }
  });

  it('delivers more keys than one NOTIFY payload holds', async () => {
    const keys = Array.from({ length: 800 }, (_, i) => `job_01hx${String(i).padStart(22, '0')}`);
    const seen = new Set<string>();
    const stop = b.listen('agent', (key) => seen.add(key));
    try {
      await eventually(async () => {
        await a.write(async (tx) => tx.notify('agent', 'warm-up'));
        return seen.has('warm-up');
      }, 10_000, 100);
      await a.write(async (tx) => {
        for (const key of keys) tx.notify('agent', key);
      });
      await eventually(() => keys.every((k) => seen.has(k)), 5000);
    } finally {
      stop();
    }
  });

  it('commits the writes queued in one turn in one transaction, each with its own database time', async () => {
    const seen = await Promise.all(
      [1, 2, 3].map(() => a.write(async (tx) => ({ now: tx.now, xid: (await tx.get<{ xid: string }>('SELECT txid_current()::text AS xid'))!.xid }))),
    );
    expect(new Set(seen.map((s) => s.xid)).size).toBe(1);
    expect(seen[2].now).toBeGreaterThanOrEqual(seen[0].now);
    const later = await a.write(async (tx) => (await tx.get<{ xid: string }>('SELECT txid_current()::text AS xid'))!.xid);
    expect(later).not.toBe(seen[0].xid);
  });

  const lockWaiters = async () =>
    (await raw.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")).rows[0].n as number;
  const counters = async () => (await raw.query('SELECT id, n FROM counters ORDER BY id')).rows;

  it('runs a write that lost a deadlock again after the other transaction ends, applying it exactly once', async () => {
    const before = await counters();
    // The write takes row 1, then waits for row 2, which `raw` holds; then `raw` asks for row 1: a deadlock.
    // The backend that looks for deadlocks first is the victim; `raw` looks only after 10 s, so it is the write.
    await raw.query("SET deadlock_timeout = '10s'");
    await raw.query('BEGIN');
    await raw.query('UPDATE counters SET n = n + 1 WHERE id = 2');
    let runs = 0;
    const write = a.write(async (tx) => {
      runs++;
      await tx.run('UPDATE counters SET n = n + 1 WHERE id = 1');
      return tx.run('UPDATE counters SET n = n + 1 WHERE id = 2');
    });
    await eventually(async () => (await lockWaiters()) === 1, 5000);
    await raw.query('UPDATE counters SET n = n + 1 WHERE id = 1');
    await raw.query('COMMIT');
    await raw.query('RESET deadlock_timeout');
    await expect(write).resolves.toBe(1);
    // Run again at least once; on a loaded machine a retry can lose a lock race once more (the store allows up to
    // MAX_RETRIES), so the count of runs is not the contract — the effect applied exactly once is.
    expect(runs).toBeGreaterThanOrEqual(2);
    expect((await counters()).map((r, i) => r.n - before[i].n)).toEqual([2, 2]);
  });

  it('does not let a batch wait long on a lock while it holds locks of earlier writes: that write goes to a later batch', async () => {
    const before = await counters();
    await raw.query('BEGIN');
    await raw.query('UPDATE counters SET n = n + 1 WHERE id = 2');
    let secondRuns = 0;
    const first = a.write((tx) => tx.run('UPDATE counters SET n = n + 1 WHERE id = 1'));
    const second = a.write(async (tx) => {
      secondRuns++;
      return tx.run('UPDATE counters SET n = n + 1 WHERE id = 2');
    });
    // The first write is committed while `raw` still holds row 2: its batch did not wait for it.
    await expect(first).resolves.toBe(1);
    // The second now heads a batch of its own and waits, as the first write of a batch may.
    await eventually(async () => (await lockWaiters()) === 1, 5000);
    await raw.query('COMMIT');
    await expect(second).resolves.toBe(1);
    expect(secondRuns).toBe(2);
    expect((await counters()).map((r, i) => r.n - before[i].n)).toEqual([1, 2]);
  });

  it('keeps working when a migration changes the columns of a table it has a prepared SELECT * for', async () => {
    const readAll = () => a.read((tx) => tx.all<Record<string, unknown>>('SELECT * FROM counters ORDER BY id'));
    const writeAll = () => a.write((tx) => tx.all<Record<string, unknown>>('SELECT * FROM counters ORDER BY id'));
    await readAll();
    await writeAll();
    await raw.query('ALTER TABLE counters ADD COLUMN note TEXT');
    expect(Object.keys((await readAll())[0])).toContain('note');
    expect(Object.keys((await writeAll())[0])).toContain('note');
  });

  it('answers 400 for text with a NUL character, which PostgreSQL cannot store', async () => {
    const error = await a
      .write(async (tx) =>
        insertTenant(tx, { id: 'ten_nul', name: 'a\u0000b', webhook_secret: 'x', webhook_secret_previous: null, webhook_secret_previous_until: null, created_at: tx.now }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobsError);
    expect((error as JobsError).code).toBe('invalid_request');
  });

  it('reconnects its LISTEN connection when the connection is killed', async () => {
    const seen: string[] = [];
    const stop = b.listen('outbox', (key) => seen.push(key));
    try {
      await eventually(async () => {
        await a.write(async (tx) => tx.notify('outbox', 'before'));
        return seen.includes('before');
      }, 10_000, 100);
      const { rowCount } = await raw.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'agentjobs-listen'",
      );
      expect(rowCount).toBeGreaterThanOrEqual(1);
      // The reconnect itself wakes the loops (a notification may have been missed meanwhile), then NOTIFYs flow again.
      await eventually(async () => {
        await a.write(async (tx) => tx.notify('outbox', 'after'));
        return seen.includes('after');
      }, 10_000, 100);
    } finally {
      stop();
    }
  });

  it('adds the distance of a moved clock to database time, so tests can move time on both engines', async () => {
    const ahead = new PostgresStore({ connectionString: url, clock: () => Date.now() + 3_600_000 });
    try {
      const real = await a.now();
      const moved = await ahead.write(async (tx) => tx.now);
      expect(moved - real).toBeGreaterThan(3_600_000 - 5000);
      expect(moved - real).toBeLessThan(3_600_000 + 5000);
      expect((await ahead.now()) - (await a.now())).toBeGreaterThan(3_600_000 - 5000);
    } finally {
      await ahead.close();
    }
  });

  it('has the same tables, columns and indexes as the SQLite schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentjobs-schema-'));
    const sqlite = new SqliteStore({ path: join(dir, 'schema.db') });
    try {
      await sqlite.migrate();
      const sqliteColumns = await sqlite.read((tx) =>
        tx.all<{ t: string; c: string }>("SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'"),
      );
      const sqliteIndexes = await sqlite.read((tx) =>
        tx.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"),
      );
      const pgColumns = (
        await raw.query<{ t: string; c: string }>(
          "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'counters'",
        )
      ).rows;
      const pgIndexes = (await raw.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")).rows;
      const key = (r: { t: string; c: string }) => `${r.t}.${r.c}`;
      expect(pgColumns.map(key).sort()).toEqual(sqliteColumns.map(key).sort());
      expect(pgIndexes.map((r) => r.name).sort()).toEqual(sqliteIndexes.map((r) => r.name).sort());
    } finally {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 unavailable when the database cannot be reached', async () => {
    const unreachable = new PostgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
    try {
      for (const attempt of [() => unreachable.read(async () => 1), () => unreachable.write(async () => 1), () => unreachable.now()]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(JobsError);
        expect((error as JobsError).code).toBe('unavailable');
      }
    } finally {
      await unreachable.close();
    }
  });
});

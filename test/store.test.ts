import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options.js';
import { openStore } from '../src/server.js';
import { loadMigrations } from '../src/store/migrations.js';
import type { Store, Tx } from '../src/store/store.js';
import { getTenantByName, insertTenant } from '../src/store/repo/auth-repo.js';
import { insertAgent, isLiveAgent, updateAgent } from '../src/store/repo/agents-repo.js';
import { ENGINES, dropDatabase, engineOptions, type Engine } from './support/engines.js';

/** Opens `count` stores on one fresh database (one SQLite file, or one PostgreSQL database), not yet migrated. */
async function openStores(engine: Engine, count: number): Promise<{ stores: Store[]; dispose: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-store-'));
  const options = resolveOptions({ dataDir, ...(await engineOptions(engine)) });
  const stores: Store[] = [];
  for (let i = 0; i < count; i++) stores.push(await openStore(options));
  return {
    stores,
    dispose: async () => {
      await Promise.all(stores.map((s) => s.close()));
      rmSync(dataDir, { recursive: true, force: true });
      if (options.databaseUrl) await dropDatabase(options.databaseUrl);
    },
  };
}

const tenant = (name: string, now: number) => ({
  id: `ten_${name.padEnd(26, '0')}`,
  name,
  webhook_secret: 'whsec_x',
  webhook_secret_previous: null,
  webhook_secret_previous_until: null,
  created_at: now,
});

for (const engine of ENGINES) {
  describe(`the store (${engine})`, () => {
    it('migrates twice, and from three processes at once, applying each migration exactly once', async () => {
      const { stores, dispose } = await openStores(engine, 3);
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        await stores[0].migrate();
        const versions = await stores[1].read((tx) => tx.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'));
        const files = loadMigrations(new URL(`../src/store/${engine}/migrations/`, import.meta.url));
        expect(versions.map((v) => v.version)).toEqual(files.map((m) => m.version));
        expect(files.length).toBeGreaterThanOrEqual(3);
      } finally {
        await dispose();
      }
    });

    describe('writes', () => {
      let store: Store;
      let dispose: () => Promise<void>;
      beforeAll(async () => {
        ({ stores: [store], dispose } = await openStores(engine, 1));
        await store.migrate();
      });
      afterAll(() => dispose());

      it('commits writes that arrive together, where a failing write undoes only itself', async () => {
        // A write may run twice (SQLite reruns a batch with a savepoint per write when one fails): the store
        // contract only asks that its effects count once.
        const results = await Promise.allSettled([
          store.write(async (tx) => {
            await insertTenant(tx, tenant('batch-a', tx.now));
          }),
          store.write(async (tx) => {
            await insertTenant(tx, tenant('batch-b', tx.now));
            throw new Error('changed my mind');
          }),
          store.write(async (tx) => {
            // A statement that fails in the database (a duplicate primary key) rolls back this write alone.
            await insertTenant(tx, tenant('batch-c', tx.now));
            await insertTenant(tx, tenant('batch-c', tx.now));
          }),
          store.write(async (tx) => {
            await insertTenant(tx, tenant('batch-d', tx.now));
          }),
        ]);
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
        expect((results[1] as PromiseRejectedResult).reason.message).toBe('changed my mind');
        const names = await store.read(async (tx) =>
          (await Promise.all(['batch-a', 'batch-b', 'batch-c', 'batch-d'].map((n) => getTenantByName(tx, n)))).map((t) => t?.name ?? null),
        );
        expect(names).toEqual(['batch-a', null, null, 'batch-d']);
      });

      it('shares what a write read with the later writes of its batch, and forgets it on change or rollback', async () => {
        const owner = tenant('memo', await store.now());
        const agentId = 'agt_memo0000000000000000000000';
        await store.write(async (tx) => {
          await insertTenant(tx, owner);
          await insertAgent(tx, {
            id: agentId,
            tenant_id: owner.id,
            name: 'memo',
            description: null,
            runtime: '{"type":"worker"}',
            max_concurrency: null,
            last_seen_at: null,
            created_at: tx.now,
            updated_at: tx.now,
            deleted_at: null,
          });
        });
        // One batch: the first write learns the agent is live, the second deletes it, the third must not be told
        // it is still live; a write that rolls back takes what it remembered with it.
        const results = await Promise.allSettled([
          store.write((tx) => isLiveAgent(tx, owner.id, agentId)),
          store.write(async (tx) => {
            tx.memo.set('rolled-back', true);
            throw new Error('rolled back');
          }),
          store.write(async (tx) => [tx.memo.has('rolled-back'), await isLiveAgent(tx, owner.id, agentId)]),
          store.write((tx) => isLiveAgent(tx, 'ten_someone_else', agentId)),
          store.write(async (tx) => {
            await updateAgent(tx, agentId, { deleted_at: tx.now });
          }),
          store.write((tx) => isLiveAgent(tx, owner.id, agentId)),
        ]);
        expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'))).toEqual([
          true,
          'rejected',
          [false, true],
          false,
          undefined,
          false,
        ]);
      });

      it('runs a following write in the transaction of the write that notifies, and never a withdrawn one', async () => {
        // PostgreSQL leaves follow() out (its writes commit apart); SQLite hands a job over in the dispatch's commit.
        if (!store.follow) return;
        const order: string[] = [];
        const kept = store.follow('agent', 'agt_follow', async (tx) => {
          order.push('follower');
          await insertTenant(tx, tenant('follow-b', tx.now));
          return tx.now;
        });
        const withdrawn = store.follow('agent', 'agt_follow', async () => order.push('withdrawn'));
        const elsewhere = store.follow('agent', 'agt_other', async () => order.push('elsewhere'));
        expect(withdrawn.cancel()).toBe(true);
        const now = await store.write(async (tx) => {
          order.push('notifier');
          await insertTenant(tx, tenant('follow-a', tx.now));
          tx.notify('agent', 'agt_follow');
          return tx.now;
        });
        expect(await kept.result).toBe(now); // the same transaction: the same clock, committed together
        expect(order).toEqual(['notifier', 'follower']);
        expect(kept.cancel()).toBe(false);
        expect(elsewhere.cancel()).toBe(true);
        expect(await store.read(async (tx) => (await getTenantByName(tx, 'follow-b'))?.name)).toBe('follow-b');
      });

      it('hands one notification to its followers one at a time, and leaves the rest waiting once one finds nothing', async () => {
        if (!store.follow) return;
        const ran: string[] = [];
        // Two jobs to take: the first two followers each take one, the third finds none; this notification does not
        // run the fourth.
        let left = 2;
        const take = (name: string) => async () => {
          ran.push(name);
          if (left === 0) return null;
          left--;
          return name;
        };
        const followers = ['w1', 'w2', 'w3', 'w4'].map((name) => store.follow!('agent', 'agt_herd', take(name)));
        await store.write(async (tx) => tx.notify('agent', 'agt_herd'));
        expect(await followers[0]!.result).toBe('w1');
        expect(await followers[1]!.result).toBe('w2');
        expect(ran).toEqual(['w1', 'w2', 'w3']);
        // The third found nothing: it is not settled (its waiter is not woken for nothing) but waits again, first in
        // line, so the next notification runs it before the fourth.
        left = 1;
        await store.write(async (tx) => tx.notify('agent', 'agt_herd'));
        expect(await followers[2]!.result).toBe('w3');
        expect(ran).toEqual(['w1', 'w2', 'w3', 'w3', 'w4']);
        expect(followers[2]!.cancel()).toBe(false);
        expect(followers[3]!.cancel()).toBe(true); // found nothing, so still waiting: withdrawn now, never run again
        left = 1;
        await store.write(async (tx) => tx.notify('agent', 'agt_herd'));
        expect(ran).toHaveLength(5);
      });

      it('hands a notification on to the next follower when one fails', async () => {
        if (!store.follow) return;
        const failing = store.follow('agent', 'agt_fail', async () => {
          throw new Error('this follower fails');
        });
        const next = store.follow('agent', 'agt_fail', async () => 'taken');
        await store.write(async (tx) => tx.notify('agent', 'agt_fail'));
        await expect(failing.result).rejects.toThrow('this follower fails');
        // Not left waiting for a notification that has come and gone.
        expect(await next.result).toBe('taken');
      });

      it('runs the followers afresh, each once, when a failing follower makes its batch run again', async () => {
        if (!store.follow) return;
        const ran: string[] = [];
        // The "job" is a tenant the notifier inserts; taking it inserts another. Both live in the store, so a run
        // that is rolled back leaves nothing taken (writes must be re-runnable).
        const take = (name: string) => async (tx: Tx) => {
          ran.push(name);
          if (!(await getTenantByName(tx, 'retry-job')) || (await getTenantByName(tx, 'retry-taken'))) return null;
          await insertTenant(tx, tenant('retry-taken', tx.now));
          tx.notify('agent', 'agt_retry_boom'); // brings in the failing follower, after the idle one has run
          return name;
        };
        const taker = store.follow('agent', 'agt_retry', take('taker'));
        const idle = store.follow('agent', 'agt_retry', take('idle'));
        const boom = store.follow('agent', 'agt_retry_boom', async () => {
          ran.push('boom');
          throw new Error('this follower fails');
        });
        // One batch of two writes, so that it first runs without savepoints: the failing follower rolls it all back,
        // and it runs again with a savepoint per write.
        const notifier = store.write(async (tx) => {
          await insertTenant(tx, tenant('retry-job', tx.now));
          tx.notify('agent', 'agt_retry');
        });
        const other = store.write(async () => 'other');
        await Promise.all([notifier, other]);
        expect(await taker.result).toBe('taker');
        await expect(boom.result).rejects.toThrow('this follower fails');
        expect(ran).toEqual(['taker', 'idle', 'boom', 'taker', 'idle', 'boom']);
        expect(taker.cancel()).toBe(false);
        expect(idle.cancel()).toBe(true); // found nothing in both runs: still waiting
        expect(await store.read(async (tx) => (await getTenantByName(tx, 'retry-taken'))?.name)).toBe('retry-taken');
        // Nothing left registered twice: a new notification runs no follower.
        await store.write(async (tx) => tx.notify('agent', 'agt_retry'));
        expect(ran).toHaveLength(6);
      });

      it('wakes this process after the commit, and never for a write that rolled back', async () => {
        const heard: string[] = [];
        const unlisten = store.listen('tree', (key) => heard.push(key));
        try {
          await Promise.allSettled([
            store.write(async (tx) => tx.notify('tree', 'kept')),
            store.write(async (tx) => {
              tx.notify('tree', 'undone');
              throw new Error('rolled back');
            }),
          ]);
          expect(heard).toEqual(['kept']);
        } finally {
          unlisten();
        }
      });

      it('gives times as integer milliseconds that move forward', async () => {
        const first = await store.write(async (tx) => tx.now);
        await new Promise((r) => setTimeout(r, 20));
        const second = await store.write(async (tx) => tx.now);
        const outside = await store.now();
        expect(Number.isInteger(first)).toBe(true);
        expect(second).toBeGreaterThanOrEqual(first + 15);
        expect(outside).toBeGreaterThanOrEqual(second);
        expect(Math.abs(outside - Date.now())).toBeLessThan(5000);
        const count = await store.read((tx) => tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM tenants'));
        expect(typeof count!.n).toBe('number');
      });
    });
  });
}

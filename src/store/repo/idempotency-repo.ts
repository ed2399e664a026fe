import type { IdempotencyRow } from '../rows.js';
import type { Tx } from '../store.js';

/**
 * Claims an idempotency key: resolves to true when this transaction now owns it, false when it was used
 * before (then read it with getIdempotency). On PostgreSQL a concurrent owner makes this wait for its commit.
 */
export async function claimIdempotencyKey(tx: Tx, row: IdempotencyRow): Promise<boolean> {
  const changed = await tx.run(
    `INSERT INTO idempotency_keys (tenant_id, scope, key, fingerprint, status_code, response, created_at)
     VALUES (?, ?, ?, ?, NULL, NULL, ?) ON CONFLICT (tenant_id, scope, key) DO NOTHING`,
    [row.tenant_id, row.scope, row.key, row.fingerprint, row.created_at],
  );
  return changed === 1;
}

/** A stored idempotency record. */
export function getIdempotency(tx: Tx, tenantId: string, scope: string, key: string): Promise<IdempotencyRow | undefined> {
  return tx.get<IdempotencyRow>('SELECT * FROM idempotency_keys WHERE tenant_id = ? AND scope = ? AND key = ?', [tenantId, scope, key]);
}

/** Stores the response given the first time a key was used. */
export function saveIdempotentResponse(
  tx: Tx,
  tenantId: string,
  scope: string,
  key: string,
  statusCode: number,
  response: string,
): Promise<number> {
  return tx.run('UPDATE idempotency_keys SET status_code = ?, response = ? WHERE tenant_id = ? AND scope = ? AND key = ?', [
    statusCode,
    response,
    tenantId,
    scope,
    key,
  ]);
}

/** Forgets keys older than `before`. */
export function purgeIdempotencyKeys(tx: Tx, before: number): Promise<number> {
  return tx.run('DELETE FROM idempotency_keys WHERE created_at < ?', [before]);
}

/** Starts an expired key afresh for a new request. */
export function restartIdempotencyKey(tx: Tx, row: IdempotencyRow): Promise<number> {
  return tx.run(
    'UPDATE idempotency_keys SET fingerprint = ?, created_at = ?, status_code = NULL, response = NULL WHERE tenant_id = ? AND scope = ? AND key = ?',
    [row.fingerprint, row.created_at, row.tenant_id, row.scope, row.key],
  );
}

import type { AgentRow, ApiKeyRow, TenantRow, WorkerTokenRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow, limitSql, updateRow } from './sql.js';

/** Stores a new tenant. */
export function insertTenant(tx: Tx, row: TenantRow): Promise<number> {
  return insertRow(tx, 'tenants', row);
}

/**
 * Stores a new tenant unless its name is taken; resolves to true when this row was stored. When another
 * transaction is storing the same name at that moment (two servers starting on an empty PostgreSQL database),
 * this waits for it to commit and then stores nothing, instead of failing on the unique name.
 */
export async function insertTenantIfAbsent(tx: Tx, row: TenantRow): Promise<boolean> {
  const changed = await tx.run(
    `INSERT INTO tenants (id, name, webhook_secret, webhook_secret_previous, webhook_secret_previous_until, created_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    [row.id, row.name, row.webhook_secret, row.webhook_secret_previous, row.webhook_secret_previous_until, row.created_at],
  );
  return changed === 1;
}

/** A tenant by id. */
export function getTenant(tx: Tx, id: string): Promise<TenantRow | undefined> {
  return tx.get<TenantRow>('SELECT * FROM tenants WHERE id = ?', [id]);
}

/** A tenant by name. */
export function getTenantByName(tx: Tx, name: string): Promise<TenantRow | undefined> {
  return tx.get<TenantRow>('SELECT * FROM tenants WHERE name = ?', [name]);
}

/** Changes the given columns of a tenant. */
export function updateTenant(tx: Tx, id: string, patch: Partial<TenantRow>): Promise<number> {
  return updateRow(tx, 'tenants', id, patch);
}

/** How many tenants exist (0 on a brand-new database). */
export async function countTenants(tx: Tx): Promise<number> {
  const row = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM tenants');
  return Number(row?.n ?? 0);
}

/** Stores a new API key (its hash). */
export function insertApiKey(tx: Tx, row: ApiKeyRow): Promise<number> {
  return insertRow(tx, 'api_keys', row);
}

/** The API key with this hash. */
export function findApiKey(tx: Tx, tokenHash: string): Promise<ApiKeyRow | undefined> {
  return tx.get<ApiKeyRow>('SELECT * FROM api_keys WHERE token_hash = ?', [tokenHash]);
}

/** A page of a tenant's API keys, newest first. */
export function listApiKeys(tx: Tx, tenantId: string, limit: number, beforeId: string | null): Promise<ApiKeyRow[]> {
  return tx.all<ApiKeyRow>(
    `SELECT * FROM api_keys WHERE tenant_id = ?${beforeId ? ' AND id < ?' : ''} ORDER BY id DESC ${limitSql(limit)}`,
    beforeId ? [tenantId, beforeId] : [tenantId],
  );
}

/** Revokes an API key of a tenant; resolves to the key row, or undefined when there is none. */
export async function revokeApiKey(tx: Tx, tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
  await tx.run('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ?', [tx.now, id, tenantId]);
  return tx.get<ApiKeyRow>('SELECT * FROM api_keys WHERE id = ? AND tenant_id = ?', [id, tenantId]);
}

/** The worker token with this hash and its (live) agent. */
export function findWorkerToken(
  tx: Tx,
  tokenHash: string,
): Promise<(WorkerTokenRow & { agent_deleted_at: AgentRow['deleted_at'] }) | undefined> {
  return tx.get(
    `SELECT t.*, a.deleted_at AS agent_deleted_at FROM worker_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.token_hash = ?`,
    [tokenHash],
  );
}

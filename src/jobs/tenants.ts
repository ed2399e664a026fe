import { JobsError, notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { generateWebhookSecret, hashToken, newToken, tokenHint, TOKEN_PREFIX } from '../domain/secrets.js';
import { iso } from '../domain/time.js';
import type { ApiKeyRow, TenantRow } from '../store/rows.js';
import {
  countTenants,
  getTenant,
  getTenantByName,
  insertApiKey,
  insertTenantIfAbsent,
  listApiKeys,
  revokeApiKey,
  updateTenant,
} from '../store/repo/auth-repo.js';
import type { Store, Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';
import { idempotent, type StoredResponse } from './idempotency.js';

/** How long the previous signing secret keeps signing after a rotation. */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

/**
 * On a brand-new database, creates the first tenant and an API key for it, and returns that key (to be shown
 * once and written to `admin.key`). Returns null when a tenant exists already.
 */
export async function bootstrapFirstTenant(store: Store): Promise<string | null> {
  return store.write(async (tx) => {
    if ((await countTenants(tx)) > 0) return null;
    // Several servers may start at once on an empty PostgreSQL database, each seeing no tenant: only the one
    // whose tenant is stored first creates the key; the others find the name taken and leave it to that one.
    const tenant = await createTenant(tx, 'default');
    if (!tenant) return null;
    return (await createKeyRow(tx, tenant.id, 'admin (created on first start)')).token;
  });
}

/**
 * `agentjobs keys create [--tenant NAME]`: a new API key for the named tenant, creating the tenant if new.
 * Resolves to the key, shown once.
 */
export async function createKeyForTenant(store: Store, tenantName: string, keyName: string | null): Promise<{ key: string; tenantId: string; created: boolean }> {
  return store.write(async (tx) => {
    const existing = await getTenantByName(tx, tenantName);
    const made = existing ? null : await createTenant(tx, tenantName);
    // When neither exists, a concurrent `keys create` stored the tenant a moment ago: use that one.
    const tenant = existing ?? made ?? (await getTenantByName(tx, tenantName))!;
    const created = made != null;
    return { key: (await createKeyRow(tx, tenant.id, keyName)).token, tenantId: tenant.id, created };
  });
}

/** `POST /v1/keys`: another key for the caller's tenant, shown once. */
export async function createApiKey(
  ctx: JobsContext,
  principal: Principal,
  input: { name?: string },
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idempotencyKey ? { key: idempotencyKey, scope: 'POST /v1/keys', body: input } : null, async () => {
      const { row, token } = await createKeyRow(tx, principal.tenantId, input.name ?? null);
      return { status: 201, body: JSON.stringify({ ...keyView(row), key: token }), stored: JSON.stringify({ ...keyView(row), key: null }) };
    }),
  );
}

/** `GET /v1/keys`. */
export async function listApiKeysJson(ctx: JobsContext, principal: Principal, query: { limit?: number; cursor?: string }): Promise<string> {
  const limit = query.limit ?? 20;
  return ctx.store.read(async (tx) => {
    const rows = await listApiKeys(tx, principal.tenantId, limit + 1, decodeCursor(query.cursor, 'key'));
    return pageJson(rows, limit, (row) => JSON.stringify(keyView(row)));
  });
}

/** `DELETE /v1/keys/{id}`: revoked at once, in every process. */
export async function revokeApiKeyJson(ctx: JobsContext, principal: Principal, keyId: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    const row = await revokeApiKey(tx, principal.tenantId, keyId);
    if (!row) throw notFound('key', keyId);
    tx.notify('revoked', row.token_hash);
    return JSON.stringify(keyView(row));
  });
}

/** `GET /v1/webhook-secret`. */
export async function getWebhookSecret(ctx: JobsContext, principal: Principal): Promise<string> {
  return ctx.store.read(async (tx) => secretView(await requireTenant(tx, principal.tenantId), tx.now));
}

/** `POST /v1/webhook-secret/rotate`: a new secret; the old one keeps signing beside it for 24 hours. */
export async function rotateWebhookSecret(ctx: JobsContext, principal: Principal): Promise<string> {
  return ctx.store.write(async (tx) => {
    const tenant = await requireTenant(tx, principal.tenantId);
    const patch = {
      webhook_secret: generateWebhookSecret(),
      webhook_secret_previous: tenant.webhook_secret,
      webhook_secret_previous_until: tx.now + SECRET_OVERLAP_MS,
    };
    await updateTenant(tx, tenant.id, patch);
    // Delivery loops (in every process) drop their copy of the secrets: the next message is signed with both.
    tx.notify('secrets', tenant.id);
    return secretView({ ...tenant, ...patch }, tx.now);
  });
}

/** A new tenant, or null when a tenant of that name exists (possibly just committed by another process). */
async function createTenant(tx: Tx, name: string): Promise<TenantRow | null> {
  const tenant: TenantRow = {
    id: newId('tenant', tx.now),
    name,
    webhook_secret: generateWebhookSecret(),
    webhook_secret_previous: null,
    webhook_secret_previous_until: null,
    created_at: tx.now,
  };
  return (await insertTenantIfAbsent(tx, tenant)) ? tenant : null;
}

async function createKeyRow(tx: Tx, tenantId: string, name: string | null): Promise<{ row: ApiKeyRow; token: string }> {
  const token = newToken(TOKEN_PREFIX.apiKey);
  const row: ApiKeyRow = {
    id: newId('key', tx.now),
    tenant_id: tenantId,
    token_hash: hashToken(token),
    hint: tokenHint(token),
    name,
    created_at: tx.now,
    revoked_at: null,
  };
  await insertApiKey(tx, row);
  return { row, token };
}

async function requireTenant(tx: Tx, id: string): Promise<TenantRow> {
  const tenant = await getTenant(tx, id);
  if (!tenant) throw new JobsError('unauthenticated', 'The tenant of this API key no longer exists.');
  return tenant;
}

function secretView(tenant: TenantRow, now: number): string {
  const overlap = tenant.webhook_secret_previous_until != null && tenant.webhook_secret_previous_until > now;
  return JSON.stringify({ secret: tenant.webhook_secret, previous_secret_expires_at: overlap ? iso(tenant.webhook_secret_previous_until) : null });
}

function keyView(row: ApiKeyRow) {
  return { id: row.id, name: row.name, hint: row.hint, created_at: iso(row.created_at), revoked_at: iso(row.revoked_at) };
}

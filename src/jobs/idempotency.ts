import { createHash } from 'node:crypto';
import { JobsError } from '../domain/jobs-error.js';
import { stableStringify } from '../domain/json.js';
import {
  claimIdempotencyKey,
  getIdempotency,
  purgeIdempotencyKeys,
  restartIdempotencyKey,
  saveIdempotentResponse,
} from '../store/repo/idempotency-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext } from './context.js';

/** How long a key remembers its first response (SPEC §2: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** An `Idempotency-Key` as the caller sent it, with what it applies to. */
export interface IdempotencyRequest {
  key: string;
  /** What the key is scoped to within the tenant: the route, and for subjobs the parent job. */
  scope: string;
  /** The parsed request body; bodies equal up to key order are the same request. */
  body: unknown;
}

/** A response as the HTTP layer will send it. */
export interface StoredResponse {
  status: number;
  body: string;
  replayed: boolean;
  /** The id of what the request created (a `Location` names it), or null. */
  createdId: string | null;
}

/**
 * Runs `create` at most once per key. Within the caller's write transaction, so the key, the object created
 * and the stored response commit together: after a crash either all exist or none. The same key with the
 * same body returns the first response; with another body it is 409 `idempotency_key_reused`. A request that
 * fails (validation, conflict) stores nothing, so it can be retried with the same key.
 *
 * `redact` lets a creation that reveals a secret once (API keys, worker tokens) store its response without it.
 */
export async function idempotent(
  tx: Tx,
  tenantId: string,
  request: IdempotencyRequest | null,
  create: () => Promise<{ status: number; body: string; stored?: string; createdId?: string }>,
): Promise<StoredResponse> {
  if (!request) return fresh(await create());
  const fingerprint = createHash('sha256').update(stableStringify(request.body)).digest('base64url');
  const row = { tenant_id: tenantId, scope: request.scope, key: request.key, fingerprint, status_code: null, response: null, created_at: tx.now };
  if (!(await claimIdempotencyKey(tx, row))) {
    const existing = (await getIdempotency(tx, tenantId, request.scope, request.key))!;
    if (existing.created_at > tx.now - IDEMPOTENCY_WINDOW_MS) {
      if (existing.fingerprint !== fingerprint) {
        throw new JobsError(
          'idempotency_key_reused',
          `Idempotency-Key '${request.key}' was already used with a different request body in the last 24 hours; use a new key for a new request.`,
        );
      }
      const body = existing.response ?? '{}';
      return { status: existing.status_code ?? 200, body, replayed: true, createdId: idOf(body) };
    }
    // The old use of the key has expired: this request starts it afresh.
    await restartIdempotencyKey(tx, row);
  }
  const response = await create();
  await saveIdempotentResponse(tx, tenantId, request.scope, request.key, response.status, response.stored ?? response.body);
  return fresh(response);
}

function fresh(response: { status: number; body: string; createdId?: string }): StoredResponse {
  return { status: response.status, body: response.body, replayed: false, createdId: response.createdId ?? null };
}

/** The `id` of a stored response: a replay has only the text to go by (rare, so it is parsed). */
function idOf(body: string): string | null {
  try {
    const id: unknown = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** Housekeeping: forgets the keys older than their 24-hour window. Resolves to how many were forgotten. */
export function forgetExpiredIdempotencyKeys(ctx: JobsContext): Promise<number> {
  return ctx.store.write(async (tx) => purgeIdempotencyKeys(tx, tx.now - IDEMPOTENCY_WINDOW_MS));
}

import { JobsError } from '../domain/jobs-error.js';
import { hashToken, safeEqual, TOKEN_PREFIX } from '../domain/secrets.js';
import { findApiKey, findWorkerToken } from '../store/repo/auth-repo.js';
import type { Store } from '../store/store.js';
import type { Principal } from './context.js';

const UNAUTHENTICATED =
  'Send a valid key as "Authorization: Bearer <key>": an API key (ak_…) for client routes, a worker token (awt_…) for worker routes.';

/**
 * Resolves a bearer token to who is calling. Tokens are looked up by their SHA-256 hash and the stored hash is
 * compared in constant time. Unknown, malformed and revoked tokens get the same 401 body.
 */
export async function authenticate(store: Store, authorization: string | undefined): Promise<Principal> {
  const token = bearer(authorization);
  if (!token) throw new JobsError('unauthenticated', UNAUTHENTICATED);
  const hash = hashToken(token);
  if (token.startsWith(TOKEN_PREFIX.apiKey)) {
    const key = await store.read((tx) => findApiKey(tx, hash));
    if (key && key.revoked_at == null && safeEqual(key.token_hash, hash)) {
      return { kind: 'api_key', tenantId: key.tenant_id, keyId: key.id };
    }
  } else if (token.startsWith(TOKEN_PREFIX.workerToken)) {
    const row = await store.read((tx) => findWorkerToken(tx, hash));
    if (row && row.revoked_at == null && row.agent_deleted_at == null && safeEqual(row.token_hash, hash)) {
      return { kind: 'worker', tenantId: row.tenant_id, agentId: row.agent_id, tokenId: row.id };
    }
  }
  throw new JobsError('unauthenticated', UNAUTHENTICATED);
}

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^bearer[ ]+(\S{1,512})[ ]*$/i.exec(header);
  return match ? match[1] : null;
}

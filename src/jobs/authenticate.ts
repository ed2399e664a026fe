import { JobsError } from '../domain/jobs-error.js';
import { hashToken, safeEqual, TOKEN_PREFIX } from '../domain/secrets.js';
import { findApiKey, findWorkerToken } from '../store/repo/auth-repo.js';
import type { Store } from '../store/store.js';
import type { Principal } from './context.js';

const UNAUTHENTICATED =
  'Send a valid key as "Authorization: Bearer <key>": an API key (ak_…) for client routes, a worker token (awt_…) for worker routes.';

/** How long a successful authentication is remembered; revocations cut it short at once (see below). */
const REMEMBER_MS = 10_000;

/**
 * Resolves bearer tokens to who is calling. Tokens are looked up by their SHA-256 hash and the stored hash is
 * compared in constant time; unknown, malformed and revoked tokens get the same 401.
 *
 * Successful lookups are remembered for a few seconds, by the token itself, so a busy client costs neither a
 * database read nor a hash per request (the token stays in this process's memory meanwhile, as it does while
 * its request is served). Revoking a key or a worker token — or deleting an agent — sends a `revoked` wake-up
 * with the token's hash (across processes on PostgreSQL), which forgets it at once; the short lifetime bounds
 * the damage should such a wake-up ever be missed.
 */
export class Authenticator {
  private readonly remembered = new Map<string, { principal: Principal; hash: string; until: number }>();
  private readonly unlisten: () => void;

  constructor(private readonly store: Store) {
    this.unlisten = store.listen('revoked', (hash) => {
      if (hash === '*') this.remembered.clear();
      else for (const [token, entry] of this.remembered) if (entry.hash === hash) this.remembered.delete(token);
    });
  }

  /** Who the Authorization header says is calling; throws 401 `unauthenticated` otherwise. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearer(authorization);
    if (!token) throw new JobsError('unauthenticated', UNAUTHENTICATED);
    const now = Date.now();
    const hit = this.remembered.get(token);
    if (hit && hit.until > now) return hit.principal;
    const hash = hashToken(token);
    const principal = await this.lookup(token, hash);
    if (!principal) throw new JobsError('unauthenticated', UNAUTHENTICATED);
    if (this.remembered.size > 10_000) this.remembered.clear();
    this.remembered.set(token, { principal, hash, until: now + REMEMBER_MS });
    return principal;
  }

  close(): void {
    this.unlisten();
  }

  private async lookup(token: string, hash: string): Promise<Principal | null> {
    if (token.startsWith(TOKEN_PREFIX.apiKey)) {
      const key = await this.store.read((tx) => findApiKey(tx, hash));
      if (key && key.revoked_at == null && safeEqual(key.token_hash, hash)) return { kind: 'api_key', tenantId: key.tenant_id, keyId: key.id };
    } else if (token.startsWith(TOKEN_PREFIX.workerToken)) {
      const row = await this.store.read((tx) => findWorkerToken(tx, hash));
      if (row && row.revoked_at == null && row.agent_deleted_at == null && safeEqual(row.token_hash, hash)) {
        return { kind: 'worker', tenantId: row.tenant_id, agentId: row.agent_id, tokenId: row.id };
      }
    }
    return null;
  }
}

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^bearer[ ]+(\S{1,512})[ ]*$/i.exec(header);
  return match ? match[1] : null;
}

import type { MessageRow, TenantRow } from '../store/rows.js';
import { getTenant } from '../store/repo/auth-repo.js';
import type { Store } from '../store/store.js';

/** How long a tenant's signing secrets are kept in memory at most (a rotation drops them at once). */
const TENANT_CACHE_MS = 5000;

/** The secrets that sign a tenant's webhooks now: the current one, and the previous one during the overlap. */
export function signingSecrets(tenant: TenantRow, now: number): string[] {
  const secrets = [tenant.webhook_secret];
  if (tenant.webhook_secret_previous && (tenant.webhook_secret_previous_until ?? 0) > now) secrets.push(tenant.webhook_secret_previous);
  return secrets;
}

/**
 * The delivery loop's copy of each tenant's signing secrets. A rotation drops a copy at once, in every
 * process (a `secrets` wake-up). A copy is read again after a few seconds all the same, should a wake-up be missed.
 */
export class TenantSecrets {
  private readonly tenants = new Map<string, { row: TenantRow; at: number }>();
  /** Bumped by every rotation heard: a read of a tenant that a rotation overtook is not kept. */
  private version = 0;
  private readonly unlisten: () => void;

  constructor(private readonly store: Store) {
    this.unlisten = store.listen('secrets', (tenantId) => {
      this.version++;
      if (tenantId === '*') this.tenants.clear();
      else this.tenants.delete(tenantId);
    });
  }

  /** The secrets to sign a message with: its observer's own secret, or its tenant's secrets now. */
  async for(message: MessageRow, now: number): Promise<string[]> {
    if (message.secret) return [message.secret];
    const cached = this.tenants.get(message.tenant_id);
    if (cached && now - cached.at < TENANT_CACHE_MS) return signingSecrets(cached.row, now);
    const version = this.version;
    const row = await this.store.read((tx) => getTenant(tx, message.tenant_id));
    if (!row) return [];
    if (version === this.version) this.tenants.set(message.tenant_id, { row, at: now });
    return signingSecrets(row, now);
  }

  /** Stops hearing rotations. */
  close(): void {
    this.unlisten();
  }
}

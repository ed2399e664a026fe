import type { Runtime } from '@agentjobs/sdk/protocol';
import type { Limits } from '../domain/limits.js';
import type { Store } from '../store/store.js';
import type { SchemaValidators } from './schema-validators.js';
import type { WorkerSightings } from './worker-sightings.js';

/** Who is calling: a client with an API key, or a worker of one agent with a worker token. */
export type Principal =
  | { kind: 'api_key'; tenantId: string; keyId: string }
  | { kind: 'worker'; tenantId: string; agentId: string; tokenId: string };

/** Checks an observer URL when a job is dispatched (the address guard of SPEC §5.1). */
export interface DispatchUrlCheck {
  /** Resolves when the URL may be used; rejects with a JobsError `webhook_url_not_allowed` otherwise. */
  (url: string): Promise<void>;
}

/** Checks an agent's runtime when it is created or changed; throws a JobsError for one this server would not run. */
export interface RuntimeCheck {
  (runtime: Runtime): void;
}

/** What every use case needs, resolved once by the composition root. */
export interface JobsContext {
  readonly store: Store;
  readonly limits: Readonly<Limits>;
  /** Lease length when a claim does not ask for one. */
  readonly leaseMs: number;
  readonly validators: SchemaValidators;
  readonly checkObserverUrl: DispatchUrlCheck;
  readonly checkRuntime: RuntimeCheck;
  /** When each worker was last recorded as seen (claims record it at most every ten seconds). */
  readonly workersSeen: WorkerSightings;
  /** Aborted when the server shuts down: long polls end at once. */
  readonly shutdown: AbortSignal;
}

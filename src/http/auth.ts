import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JobsError } from '../domain/jobs-error.js';
import { Authenticator } from '../jobs/authenticate.js';
import type { Principal } from '../jobs/context.js';
import { IDEMPOTENCY_KEY_PATTERN } from '@agentjobs/sdk/protocol';
import type { Store } from '../store/store.js';
import { addRouteHook } from './route-hooks.js';

/** Which credential a route takes. */
export type RouteAuth = 'api_key' | 'worker' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The credential the route takes (default: none). */
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Authenticates every route that asks for it, before its body is read: a client route takes an API key, a
 * worker route a worker token; the other kind is 403 (`forbidden`) with a message that says which to use.
 */
export function registerAuth(app: FastifyInstance, store: Store): void {
  const authenticator = new Authenticator(store);
  app.addHook('onClose', async () => authenticator.close());
  app.decorateRequest('principal', undefined);
  // Only routes that declare a credential get the hook (the dashboard's files and the probes do not pay).
  app.addHook('onRoute', (route) => {
    const need = route.config?.auth;
    if (!need || need === 'none') return;
    const check = async (request: FastifyRequest) => {
      const authorization = request.headers.authorization;
      if (Array.isArray(authorization)) throw new JobsError('unauthenticated', 'Send exactly one Authorization header.');
      const principal = await authenticator.authenticate(authorization);
      if (principal.kind !== need) {
        throw new JobsError(
          'forbidden',
          need === 'api_key'
            ? 'This route takes an API key (ak_…); a worker token (awt_…) only works on worker routes.'
            : 'This route takes a worker token (awt_…) of the agent; API keys (ak_…) only work on client routes.',
        );
      }
      request.principal = principal;
    };
    addRouteHook(route, 'onRequest', check);
  });
}

/** The authenticated caller of a route that declared `auth`. */
export function principalOf(request: FastifyRequest): Principal {
  return request.principal!;
}

/** Why an `Idempotency-Key` was refused (400 `invalid_idempotency_key`). */
const IDEMPOTENCY_KEY_RULE = 'Idempotency-Key must be 1–255 printable ASCII characters without spaces, sent once.';

const idempotencyKey = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/** The `Idempotency-Key` header, checked: 1–255 printable ASCII characters. */
export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return null;
  if (Array.isArray(value) || !idempotencyKey.test(value)) throw new JobsError('invalid_idempotency_key', IDEMPOTENCY_KEY_RULE);
  return value;
}

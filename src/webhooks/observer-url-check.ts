import { JobsError } from '../domain/jobs-error.js';
import { checkWebhookUrl, resolveAndCheck, type Resolver } from './address-guard.js';

/**
 * The dispatch-time half of the address guard (SPEC §5.1): the URL's form and literal addresses, then every
 * address its name resolves to. A name that does not resolve now is accepted — DNS may be down for a moment —
 * because every delivery checks again, against the address it actually connects to.
 * The server hands it to the use cases as their `checkObserverUrl`.
 */
export function makeDispatchUrlCheck(options: { allowPrivate: boolean; resolver?: Resolver }): (url: string) => Promise<void> {
  return async (url) => {
    const checked = checkWebhookUrl(url, { allowPrivate: options.allowPrivate });
    if (!checked.ok) throw refusal(checked.reason, checked.message);
    if (options.allowPrivate) return;
    const resolved = await resolveAndCheck(checked.url, { allowPrivate: false, resolver: options.resolver });
    if (!resolved.ok && resolved.reason !== 'unresolved') throw refusal(resolved.reason, resolved.message);
  };
}

/** The guard's message already says how to fix it (and, for an address, that --allow-private-webhooks exists). */
function refusal(reason: string, message: string): JobsError {
  return new JobsError('webhook_url_not_allowed', `${message}.`, { reason });
}

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/), symmetric scheme `v1`.
 *
 * The server signs `"{msgId}.{timestamp}.{body}"` with HMAC-SHA256 keyed by the base64-decoded part of a
 * `whsec_…` secret. The body passed here must be the exact string that goes on the wire: re-serialising
 * the JSON between signing and sending would break every signature.
 */
import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** What {@link signWebhook} and {@link webhookHeaders} sign: one message, one attempt. */
export interface WebhookSigningInput {
  /**
   * Every secret currently valid for the observer. During a rotation this holds the new and the old
   * secret, and the header carries one signature per secret, so receivers on either secret keep working.
   */
  secrets: string[];
  /** The message id (`msg_…`), the same on every retry of that message. Must not contain `.`. */
  msgId: string;
  /** Unix time in seconds of this attempt (not of the event), so late retries still pass receivers' tolerance. */
  timestamp: number;
  /** The exact request body that will be sent. */
  body: string;
}

/**
 * Computes the `webhook-signature` header value: one `v1,<base64 HMAC-SHA256>` per secret, separated by
 * single spaces, in the order the secrets were given.
 *
 * @throws TypeError when there is no secret, a secret is not `whsec_` + base64, the id contains `.`, or
 *   the timestamp is not a whole number of seconds — all of them bugs in the caller, never bad input
 *   from a receiver.
 */
export function signWebhook(input: WebhookSigningInput): string {
  const { secrets, msgId, timestamp, body } = input;
  if (secrets.length === 0) {
    throw new TypeError('signWebhook needs at least one secret');
  }
  assertSignableIdAndTimestamp(msgId, timestamp);
  const signedContent = `${msgId}.${timestamp}.${body}`;
  return secrets
    .map((secret) => `v1,${createHmac('sha256', decodeSecret(secret)).update(signedContent, 'utf8').digest('base64')}`)
    .join(' ');
}

/** The headers of one webhook request, as {@link webhookHeaders} returns them. */
export interface WebhookRequestHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
  'user-agent': 'agentjobs-webhooks/1';
  [name: string]: string;
}

/**
 * Builds every header a webhook request carries: the three Standard Webhooks headers, the content type
 * and our user agent (receivers and their firewalls use it to recognise us).
 */
export function webhookHeaders(input: WebhookSigningInput): WebhookRequestHeaders {
  return {
    'webhook-id': input.msgId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signWebhook(input),
    'content-type': 'application/json',
    'user-agent': 'agentjobs-webhooks/1',
  };
}

/** Turns `whsec_<base64>` into the HMAC key bytes. The prefix is optional, as in the reference library. */
function decodeSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // Buffer.from(…, 'base64') silently skips characters it does not know, which would turn a typo in a
  // configured secret into a different key; refuse anything that is not plain base64 instead.
  if (!BASE64.test(encoded)) {
    throw new TypeError('a webhook secret must be "whsec_" followed by base64');
  }
  return Buffer.from(encoded, 'base64');
}

/** The spec signs `{id}.{timestamp}.{body}`: a `.` inside the id would make the signed content ambiguous. */
function assertSignableIdAndTimestamp(msgId: string, timestamp: number): void {
  if (msgId.length === 0 || msgId.includes('.')) {
    throw new TypeError(`webhook message id must be non-empty and contain no ".": ${JSON.stringify(msgId)}`);
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError(`webhook timestamp must be whole Unix seconds: ${timestamp}`);
  }
}

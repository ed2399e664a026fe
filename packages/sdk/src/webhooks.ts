/**
 * Verifying agentjobs webhooks on the receiving side (`@agentjobs/sdk/webhooks`).
 *
 * The requests follow Standard Webhooks (https://www.standardwebhooks.com/), so any of its libraries works
 * as well. This module runs wherever JavaScript does (Node, Bun, Deno, edge runtimes, browsers): it imports
 * no Node built-in. {@link verifyWebhook} stays synchronous with a pure-JS HMAC (`@noble/hashes`), since Web
 * Crypto is async only; {@link verifyWebhookAsync} uses Web Crypto instead.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Why a request was refused; stable, safe to branch on. */
export type WebhookVerificationErrorCode =
  | 'missing_headers'
  | 'timestamp_out_of_range'
  | 'invalid_signature'
  | 'invalid_body';

/**
 * Thrown by {@link verifyWebhook} when a request must not be trusted. Answer it with a 4xx (400 or 401)
 * and do not act on the body.
 */
export class WebhookVerificationError extends Error {
  /** What failed: headers absent, timestamp outside the tolerance, no matching signature, or a body that is not a webhook payload. */
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

/** The body of every agentjobs webhook request. */
export interface WebhookPayload {
  /** `job.running`, `job.completed`, `job.failed` or `job.cancelled`. */
  type: string;
  /** When the transition happened, RFC 3339 UTC (`2026-03-19T12:04:33.000Z`). */
  timestamp: string;
  data: {
    /** The job object as `GET /v1/jobs/{id}` returned it at the moment of the transition. */
    // `any` on purpose: the SDK carries no copy of the job schema, and receivers read only what they need.
    job: any;
    /** The job the observer was registered on: `data.job` itself or one of its ancestors. */
    observer_job_id: string;
    /** Counts the transitions of `data.job` from 1: order by it, drop what you have already seen. */
    sequence: number;
  };
}

/** Tuning for {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /**
   * How far `webhook-timestamp` may be from the receiver's clock, in either direction, in seconds.
   * Each retry is signed with a fresh timestamp, so this does not limit how late a retry may arrive.
   * @default 300
   */
  toleranceSeconds?: number;
  /** The receiver's clock in milliseconds since the epoch, like `Date.now` (injectable for tests). @default Date.now */
  now?: () => number;
}

/** Incoming headers: Node's `req.headers`, a plain object with any casing, or a Fetch `Headers`. */
export type IncomingWebhookHeaders = Record<string, string | string[] | undefined> | Headers;

/** The body exactly as it arrived: its UTF-8 text, or its bytes (a Node `Buffer` is a `Uint8Array`). */
export type RawWebhookBody = string | Uint8Array;

const DEFAULT_TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = 'whsec_';
const utf8 = new TextEncoder();

/**
 * Checks that a request really comes from agentjobs and is recent, then returns its parsed body.
 *
 * Pass the body exactly as it arrived (the raw bytes or their UTF-8 string): the signature covers those
 * bytes, and a body parsed and re-serialised by a framework will not verify. Deliveries are at least once:
 * deduplicate on the `webhook-id` header (keep ids for at least the retry horizon, about 76 hours).
 *
 * @param secret - the observer's `whsec_…` secret, or the tenant's (`GET /v1/webhook-secret`).
 * @throws {@link WebhookVerificationError} when headers are missing, the timestamp is outside the tolerance,
 *   no `v1` signature matches, or the body is not a webhook payload.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { verifyWebhook, WebhookVerificationError } from '@agentjobs/sdk/webhooks';
 *
 * createServer(async (req, res) => {
 *   const chunks: Buffer[] = [];
 *   for await (const chunk of req) chunks.push(chunk);
 *   try {
 *     const event = verifyWebhook(process.env.AGENTJOBS_WEBHOOK_SECRET!, req.headers, Buffer.concat(chunks));
 *     if (event.type === 'job.completed') console.log('done:', event.data.job.id);
 *     res.writeHead(204).end();
 *   } catch (err) {
 *     res.writeHead(err instanceof WebhookVerificationError ? 400 : 500).end();
 *   }
 * }).listen(3000);
 * ```
 */
export function verifyWebhook(
  secret: string,
  headers: IncomingWebhookHeaders,
  rawBody: RawWebhookBody,
  options: VerifyWebhookOptions = {},
): WebhookPayload {
  const { signed, body, signatures } = prepare(secret, headers, rawBody, options);
  assertSignatureMatches(hmac(sha256, signed.key, signed.content), signatures);
  return parsePayload(body);
}

/**
 * {@link verifyWebhook} on Web Crypto (`crypto.subtle`), which is async: the same checks, the same errors.
 * Prefer it where a native HMAC matters (large bodies, many deliveries); it needs `globalThis.crypto`.
 */
export async function verifyWebhookAsync(
  secret: string,
  headers: IncomingWebhookHeaders,
  rawBody: RawWebhookBody,
  options: VerifyWebhookOptions = {},
): Promise<WebhookPayload> {
  const { signed, body, signatures } = prepare(secret, headers, rawBody, options);
  const key = await crypto.subtle.importKey('raw', signed.key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  assertSignatureMatches(new Uint8Array(await crypto.subtle.sign('HMAC', key, signed.content)), signatures);
  return parsePayload(body);
}

/** What both verifiers check before the signature: the headers, the timestamp, the secret; and what is signed. */
function prepare(secret: string, headers: IncomingWebhookHeaders, rawBody: RawWebhookBody, options: VerifyWebhookOptions) {
  const { id, timestamp, signatures } = readSignatureHeaders(headers);
  assertTimestampInTolerance(timestamp, options);
  const key = decodeSecret(secret);
  const body = typeof rawBody === 'string' ? utf8.encode(rawBody) : rawBody;
  // Sign bytes, not a decoded string, so a body that is not valid UTF-8 is compared exactly as received.
  const prefix = utf8.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  return { signed: { key, content }, body, signatures };
}

function readSignatureHeaders(headers: IncomingWebhookHeaders): { id: string; timestamp: string; signatures: string } {
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      'missing_headers',
      'webhook-id, webhook-timestamp and webhook-signature headers are all required',
    );
  }
  return { id, timestamp, signatures };
}

/** Header names are case-insensitive; plain objects from some frameworks keep the sender's casing. */
function headerValue(headers: IncomingWebhookHeaders, name: string): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    return headers.get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  // A repeated header arrives as an array; the signature list is space-separated, so joining keeps every entry.
  return Array.isArray(value) ? value.join(' ') : value;
}

function assertTimestampInTolerance(timestamp: string, options: VerifyWebhookOptions): void {
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new WebhookVerificationError('timestamp_out_of_range', 'webhook-timestamp is not a Unix time in seconds');
  }
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  // Refuse both directions: an old timestamp is a replay, a future one would extend a replay window.
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_out_of_range',
      `webhook-timestamp is more than ${toleranceSeconds} s away from this clock (check NTP on the receiver)`,
    );
  }
}

function assertSignatureMatches(expected: Uint8Array, signatures: string): void {
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    // Other schemes (`v1a` for ed25519) may sit in the same list; they are not ours to check.
    if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
    const candidate = decodeBase64(entry.slice(comma + 1));
    if (candidate !== undefined && constantTimeEqual(candidate, expected)) return;
  }
  throw new WebhookVerificationError('invalid_signature', 'no v1 signature in webhook-signature matches this secret');
}

/** Compares every byte whatever the first difference, so the time taken says nothing about the expected MAC. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // A length mismatch reveals nothing about the key.
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = decodeBase64(encoded);
  if (key === undefined || key.length === 0) {
    // A configuration mistake, not a bad request: say so instead of rejecting every delivery as forged.
    throw new TypeError('verifyWebhook: the secret must be "whsec_" followed by base64');
  }
  return key;
}

/** Standard base64 to bytes with `atob` (every runtime has it); undefined when it is not base64. */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function parsePayload(body: Uint8Array): WebhookPayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new WebhookVerificationError('invalid_body', 'the webhook body is not valid JSON');
  }
  if (!isWebhookPayload(parsed)) {
    throw new WebhookVerificationError('invalid_body', 'the webhook body has no "type" string or no "data" object');
  }
  return parsed;
}

function isWebhookPayload(value: unknown): value is WebhookPayload {
  if (typeof value !== 'object' || value === null) return false;
  const { type, data } = value as { type?: unknown; data?: unknown };
  return typeof type === 'string' && typeof data === 'object' && data !== null;
}

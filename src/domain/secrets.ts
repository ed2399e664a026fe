import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBytesPooled } from './random.js';

/** Token prefixes: API keys for clients, worker tokens for an agent's workers, lease tokens for one attempt. */
export const TOKEN_PREFIX = { apiKey: 'ak_', workerToken: 'awt_', lease: 'lt_' } as const;

/** A new bearer token: the prefix and 32 random bytes in base64url (256 bits). */
export function newToken(prefix: string, bytes = 32): string {
  return prefix + randomBytesPooled(bytes).toString('base64url');
}

/**
 * The stored form of a bearer token. Tokens carry 256 random bits, so a fast hash is enough (a slow password
 * hash would add latency and no security); lookups go by this hash, never by the token itself.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Constant-time equality of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A recognisable, harmless hint of a token: its prefix, four characters, an ellipsis and the last four. */
export function tokenHint(token: string): string {
  const cut = token.indexOf('_') + 1;
  return `${token.slice(0, cut + 4)}…${token.slice(-4)}`;
}

/**
 * A new webhook signing secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks accepts 24–64).
 *
 * @example
 * generateWebhookSecret(); // "whsec_q3J0…="
 */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytesPooled(32).toString('base64')}`;
}

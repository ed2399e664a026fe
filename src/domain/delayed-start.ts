import { JobsError } from './jobs-error.js';
import type { Limits } from './limits.js';
import { iso, parseIso, type Millis } from './time.js';

/** A delayed start as a request asks for it: a time, or a number of seconds from now. */
export interface StartRequest {
  not_before?: string;
  delay_seconds?: number;
}

/**
 * When a job asked to start later may be claimed: null when it asked for nothing, `now` when it asked for a time
 * already past (it runs now). `field` prefixes the field names in errors (`jobs[3].` in a batch).
 * @throws JobsError invalid_request for both fields at once, or for a start further ahead than the limit.
 */
export function resolveStart(request: StartRequest, now: Millis, limits: Limits, field = ''): Millis | null {
  if (request.not_before != null && request.delay_seconds != null)
    throw new JobsError('invalid_request', `${field}not_before and ${field}delay_seconds were both given; send one of them.`);
  let at: Millis | null = null;
  if (request.not_before != null) {
    at = parseIso(request.not_before);
    if (at == null) throw new JobsError('invalid_request', `${field}not_before must be an RFC 3339 time, e.g. 2026-03-19T12:00:00Z.`);
  } else if (request.delay_seconds != null) {
    at = now + Math.round(request.delay_seconds * 1000);
  }
  if (at == null) return null;
  if (at - now > limits.maxStartDelayMs) {
    const days = Math.round(limits.maxStartDelayMs / 86_400_000);
    const name = request.not_before != null ? 'not_before' : 'delay_seconds';
    throw new JobsError(
      'invalid_request',
      `${field}${name} asks for a start at ${iso(at)}, more than ${days} days ahead (the limit); dispatch it closer to that time, or use a schedule.`,
    );
  }
  return Math.max(at, now);
}

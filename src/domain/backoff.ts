import type { RetryPolicy } from '@agentjobs/sdk/protocol';
import type { Millis } from './time.js';

/** The defaults of a `constraints.retry` policy that leaves them out. */
export const RETRY_DEFAULTS = { backoff: 'exponential', initial_seconds: 1, max_seconds: 300 } as const;

/** The share of a delay that jitter may take off: each delay is drawn between 80 % and 100 % of the policy's. */
export const BACKOFF_JITTER = 0.2;

/**
 * The policy's delay before the attempt that follows failed attempt `attempt` (from 1), before jitter:
 * exponential doubles from `initial_seconds` up to `max_seconds`; fixed is `initial_seconds` every time.
 */
export function backoffCeilingMs(policy: RetryPolicy, attempt: number): Millis {
  const initial = (policy.initial_seconds ?? RETRY_DEFAULTS.initial_seconds) * 1000;
  const max = (policy.max_seconds ?? RETRY_DEFAULTS.max_seconds) * 1000;
  const delay = (policy.backoff ?? RETRY_DEFAULTS.backoff) === 'fixed' ? initial : initial * 2 ** Math.max(0, attempt - 1);
  return Math.round(Math.min(delay, max));
}

/**
 * The delay before the next attempt, with jitter: between (1 − BACKOFF_JITTER) and 1 times the policy's delay,
 * so the retries of many jobs failed together spread out, and none waits longer than the policy says.
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random: () => number): Millis {
  const ceiling = backoffCeilingMs(policy, attempt);
  return Math.round(ceiling * (1 - BACKOFF_JITTER * random()));
}

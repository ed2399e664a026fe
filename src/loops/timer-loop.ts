import type { Logger } from 'pino';
import { TIMER_SWEEP_MAX_SLEEP_MS } from '../domain/job-rules.js';
import type { Store } from '../store/store.js';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';

/** What the timer loop runs: the use cases of `jobs/expire-due-jobs.ts`, bound to a context by the server. */
export interface TimerSweep {
  /** Acts on every job whose timer has fired. */
  expireDue(): Promise<unknown>;
  /** The earliest pending timer, or null when none is pending. */
  nextDueAt(): Promise<number | null>;
}

/**
 * Runs the job timers: sleeps until the earliest due time in the database (or a wake-up from a commit that
 * set an earlier one), then expires what is due. Deadlines fire on time, not on the next request.
 */
export function startTimerLoop(store: Store, sweep: TimerSweep, log: Logger): BackgroundLoop {
  return startBackgroundLoop({
    name: 'timer sweep',
    store,
    log,
    channels: ['timer'],
    retryMs: TIMER_SWEEP_MAX_SLEEP_MS,
    step: async () => {
      await sweep.expireDue();
      const next = await sweep.nextDueAt();
      // At least 1 ms: a timer that is due right now was just handled by the sweep above.
      return next == null ? TIMER_SWEEP_MAX_SLEEP_MS : Math.max(1, Math.min(TIMER_SWEEP_MAX_SLEEP_MS, next - (await store.now())));
    },
  });
}

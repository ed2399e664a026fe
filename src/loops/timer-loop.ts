import type { Logger } from 'pino';
import { TIMER_SWEEP_MAX_SLEEP_MS } from '../domain/job-rules.js';
import type { Store } from '../store/store.js';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';

/**
 * What the timer loop runs: the use cases of `jobs/expire-due-jobs.ts` and `jobs/fire-schedules.ts`, bound to a
 * context by the server.
 */
export interface TimerSweep {
  /** Acts on every job whose timer has fired. */
  expireDue(): Promise<unknown>;
  /** The earliest pending timer, or null when none is pending. */
  nextDueAt(): Promise<number | null>;
  /** Fires every schedule whose next fire is due. */
  fireDue(): Promise<unknown>;
  /** The earliest next fire of any schedule, or null. */
  nextFireAt(): Promise<number | null>;
}

/**
 * Runs the timers: sleeps until the earliest due time in the database — of a job or a schedule's next fire — (or
 * a wake-up from a commit that set an earlier one), then acts on what is due. Deadlines fire on time, not on the
 * next request, and so do schedules.
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
      // A look before a write: most sweeps find no fire due, and then cost no transaction.
      let schedule = await sweep.nextFireAt();
      if (schedule != null && schedule <= (await store.now())) {
        await sweep.fireDue();
        schedule = await sweep.nextFireAt();
      }
      const job = await sweep.nextDueAt();
      const next = job == null ? schedule : schedule == null ? job : Math.min(job, schedule);
      // At least 1 ms: a timer that is due right now was just handled by the sweep above.
      return next == null ? TIMER_SWEEP_MAX_SLEEP_MS : Math.max(1, Math.min(TIMER_SWEEP_MAX_SLEEP_MS, next - (await store.now())));
    },
  });
}

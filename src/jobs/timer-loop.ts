import type { Logger } from 'pino';
import { TIMER_SWEEP_MAX_SLEEP_MS } from '../domain/job-rules.js';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import type { JobsContext } from './context.js';
import { expireDueJobs, nextDueAt } from './expire-due-jobs.js';

/**
 * Runs the job timers: sleeps until the earliest due time in the database (or a wake-up from a commit that
 * set an earlier one), then expires what is due. Deadlines fire on time, not on the next request.
 */
export function startTimerLoop(ctx: JobsContext, log: Logger): BackgroundLoop {
  return startBackgroundLoop({
    name: 'timer sweep',
    store: ctx.store,
    log,
    channels: ['timer'],
    retryMs: TIMER_SWEEP_MAX_SLEEP_MS,
    step: async () => {
      await expireDueJobs(ctx);
      const next = await nextDueAt(ctx);
      // At least 1 ms: a timer that is due right now was just handled by the sweep above.
      return next == null ? TIMER_SWEEP_MAX_SLEEP_MS : Math.max(1, Math.min(TIMER_SWEEP_MAX_SLEEP_MS, next - (await ctx.store.now())));
    },
  });
}

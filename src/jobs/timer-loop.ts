import type { Logger } from 'pino';
import { startBackgroundLoop, type BackgroundLoop } from './background-loop.js';
import type { JobsContext } from './context.js';
import { expireDueJobs, nextDueAt } from './expire-due-jobs.js';

/** Longest sleep between sweeps: bounds how late a timer set by another process (PostgreSQL) is noticed. */
const MAX_SLEEP_MS = 500;

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
    retryMs: MAX_SLEEP_MS,
    step: async () => {
      await expireDueJobs(ctx);
      const next = await nextDueAt(ctx);
      // At least 1 ms: a timer that is due right now was just handled by the sweep above.
      return next == null ? MAX_SLEEP_MS : Math.max(1, Math.min(MAX_SLEEP_MS, next - (await ctx.store.now())));
    },
  });
}

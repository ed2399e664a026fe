import type { Logger } from 'pino';
import type { JobsContext } from './context.js';
import { expireDueJobs, nextDueAt } from './expire-due-jobs.js';

/** Longest sleep between sweeps: bounds how late a timer set by another process (PostgreSQL) is noticed. */
const MAX_SLEEP_MS = 500;

/**
 * Runs the job timers: sleeps until the earliest due time in the database (or a wake-up from a commit that
 * set an earlier one), then expires what is due. Deadlines fire on time, not on the next request.
 */
export function startTimerLoop(ctx: JobsContext, log: Logger): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | null = null;
  const unlisten = ctx.store.listen('timer', () => wake?.());
  const done = (async () => {
    while (!stopped) {
      let delay = MAX_SLEEP_MS;
      try {
        await expireDueJobs(ctx);
        const next = await nextDueAt(ctx);
        if (next != null) delay = Math.max(0, Math.min(MAX_SLEEP_MS, next - (await ctx.store.now())));
      } catch (error) {
        if (!stopped) log.error({ err: error }, 'timer sweep failed; retrying');
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      wake?.();
      unlisten();
      await done;
    },
  };
}

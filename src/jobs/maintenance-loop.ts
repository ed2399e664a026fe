import type { Logger } from 'pino';
import { purgeIdempotencyKeys } from '../store/repo/idempotency-repo.js';
import type { JobsContext } from './context.js';
import { IDEMPOTENCY_WINDOW_MS } from './idempotency.js';

const EVERY_MS = 10 * 60_000;

/** Housekeeping every ten minutes: forgets idempotency keys older than their 24-hour window. */
export function startMaintenanceLoop(ctx: JobsContext, log: Logger): { stop(): Promise<void> } {
  const run = async () => {
    try {
      await ctx.store.write(async (tx) => purgeIdempotencyKeys(tx, tx.now - IDEMPOTENCY_WINDOW_MS));
    } catch (error) {
      log.warn({ err: error }, 'maintenance failed; will retry');
    }
  };
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}

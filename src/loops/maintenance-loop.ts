import type { Logger } from 'pino';

const EVERY_MS = 10 * 60_000;

/** Housekeeping every ten minutes; a failed run is logged and tried again at the next one. */
export function startMaintenanceLoop(housekeeping: () => Promise<unknown>, log: Logger): { stop(): Promise<void> } {
  const run = async () => {
    try {
      await housekeeping();
    } catch (error) {
      log.warn({ err: error }, 'maintenance failed; will retry');
    }
  };
  const timer = setInterval(run, EVERY_MS);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}

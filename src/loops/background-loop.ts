import type { Logger } from 'pino';
import type { Channel, Store } from '../store/store.js';

/** A loop running in the background of a server. */
export interface BackgroundLoop {
  /** Runs the next step now instead of after its delay. */
  poke(): void;
  /** Stops after the current step; resolves once it has. */
  stop(): Promise<void>;
}

/**
 * Runs `step` again and again. Each step resolves to how long to sleep before the next one (0: at once); a
 * wake-up on one of `channels`, or `poke()`, cuts the sleep short. A failing step is logged and retried after
 * `retryMs`. This is the shape of every timer-driven loop of the server: the job timers and webhook delivery.
 */
export function startBackgroundLoop(options: {
  name: string;
  store: Store;
  log: Logger;
  channels: Channel[];
  /** Which wake-ups cut the sleep short (all of them by default): a loop may know a key leaves it nothing to do. */
  wakesFor?: (channel: Channel, key: string) => boolean;
  retryMs: number;
  step: () => Promise<number>;
}): BackgroundLoop {
  let stopped = false;
  let wake: (() => void) | null = null;
  let poked = false;
  const poke = () => {
    poked = true;
    wake?.();
  };
  const wakesFor = options.wakesFor ?? (() => true);
  const unlisten = options.channels.map((channel) => options.store.listen(channel, (key) => wakesFor(channel, key) && poke()));
  const done = (async () => {
    while (!stopped) {
      poked = false;
      let delay = options.retryMs;
      try {
        delay = await options.step();
      } catch (error) {
        if (!stopped) options.log.error({ err: error, loop: options.name }, `${options.name} failed; retrying`);
      }
      if (stopped) break;
      if (delay <= 0 || poked) continue;
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
    poke,
    stop: async () => {
      stopped = true;
      wake?.();
      for (const off of unlisten) off();
      await done;
    },
  };
}

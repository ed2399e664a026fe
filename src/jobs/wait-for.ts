import type { Channel, Store } from '../store/store.js';

/**
 * Repeats `attempt` until it yields something or `waitMs` passes, sleeping in between until a wake-up arrives
 * on `channel`/`key` (no polling interval). The subscription is made before each attempt, so a wake-up that
 * lands while an attempt runs is not lost. Ends early when `signal` aborts.
 */
export async function waitFor<T>(
  store: Store,
  channel: Channel,
  key: string,
  waitMs: number,
  signals: AbortSignal[],
  attempt: () => Promise<T | null>,
): Promise<T | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let woken = false;
    let wake: () => void = () => {};
    const unlisten = store.listen(channel, (k) => {
      if (k === key) {
        woken = true;
        wake();
      }
    });
    try {
      const result = await attempt();
      if (result !== null) return result;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signals.some((s) => s.aborted)) return null;
      if (!woken) await sleepUntilWoken(remaining, signals, (fn) => (wake = fn));
      if (signals.some((s) => s.aborted)) return null;
      if (Date.now() >= deadline && !woken) return null;
    } finally {
      unlisten();
    }
  }
}

function sleepUntilWoken(ms: number, signals: AbortSignal[], setWake: (fn: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
    setWake(done);
  });
}

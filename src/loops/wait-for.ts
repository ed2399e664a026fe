import type { Channel, FollowingWrite, Store, Tx } from '../store/store.js';

/**
 * Repeats `attempt` until it yields something or `waitMs` passes, sleeping in between until a wake-up arrives
 * on `channel`/`key` (no polling interval). The subscription is made before each attempt, so a wake-up that
 * lands while an attempt runs is not lost. Ends early when `signal` aborts.
 *
 * With `follower` (a write doing what `attempt` does), and a store that can, the sleeper registers it instead to
 * run in the very transaction of the write that notifies (see `Store.follow`): what that write made is handed
 * over in its own commit, without a second one. The follower is then its only wake-up: the store runs it on every
 * notification that may have something for it and settles it only when it took something, so a sleeper is not
 * woken by a job another sleeper took.
 */
export async function waitFor<T>(
  store: Store,
  channel: Channel,
  key: string,
  waitMs: number,
  signals: AbortSignal[],
  attempt: () => Promise<T | null>,
  follower?: (tx: Tx) => Promise<T | null>,
): Promise<T | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let woken = false;
    let wake: () => void = () => {};
    let following: FollowingWrite<T | null> | undefined;
    const unlisten = store.listen(channel, (k) => {
      if (k === key && !following) {
        woken = true;
        wake();
      }
    });
    try {
      const result = await attempt();
      if (result !== null) return result;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signals.some((s) => s.aborted)) return null;
      if (!woken) {
        following = follower && store.follow?.(channel, key, follower);
        following?.result.then(
          () => wake(),
          () => wake(),
        );
        await sleepUntilWoken(remaining, signals, (fn) => (wake = fn));
        // Withdrawn unless a write already took it: then its outcome is ours (jobs it claimed must not be lost).
        if (following && !following.cancel()) {
          const taken = await following.result;
          if (taken !== null) return taken;
        }
      }
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

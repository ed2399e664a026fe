import { BoundedMap } from '../domain/bounded-map.js';

/** How often a worker is recorded as seen at most: "seen in the last minute" needs seconds, not every claim. */
const TOUCH_EVERY_MS = 10_000;
/** Workers remembered; the ones seen longest ago are forgotten first. */
const WORKERS_KEPT = 10_000;

/**
 * When each worker was last recorded as seen, so that a claim writes `last_seen` only when it is due.
 * One per server, owned by the use cases' context; time comes from the clock it is given.
 */
export class WorkerSightings {
  private readonly lastTouched = new BoundedMap<string, number>(WORKERS_KEPT);

  constructor(private readonly clock: () => number) {}

  /** Whether the worker is due to be recorded as seen: a look, which records nothing. */
  isDue(agentId: string, workerId: string, now = this.clock()): boolean {
    const last = this.lastTouched.get(key(agentId, workerId));
    return last == null || now - last >= TOUCH_EVERY_MS;
  }

  /** Records a sighting at `now` when one is due; true when the caller must write it. */
  record(agentId: string, workerId: string, now: number): boolean {
    if (!this.isDue(agentId, workerId, now)) return false;
    const k = key(agentId, workerId);
    this.lastTouched.delete(k); // re-inserted last, so the workers seen longest ago are the ones forgotten
    this.lastTouched.set(k, now);
    return true;
  }
}

function key(agentId: string, workerId: string): string {
  return `${agentId}\u0000${workerId}`;
}

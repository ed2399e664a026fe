/**
 * A worker speaking the agentjobs worker protocol (SPEC.md §6) directly over undici: long-poll
 * claims of several jobs at a time, a no-op handler, complete. Latency, webhooks and growth use it
 * because it measures the server rather than a client, and can time the moment a claim answer is
 * read; end to end uses the SDK's `runWorker` (`sdk-worker.ts`), as issue 6 asks.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { sendHttp } from '../lib/http-send.js';

/** Options of {@link startProtocolWorker}. */
export interface ProtocolWorkerOptions {
  /** Server origins; claim loops are spread over them (any process may serve any job, §8). */
  origins: string[];
  /** `agt_…` */
  agentId: string;
  /** The agent's worker token (`awt_…`). */
  token: string;
  /** Jobs handled at once, across all claim loops. */
  concurrency: number;
  /**
   * Claim loops. Two, so one claim round trip is always in flight while the other loop's jobs
   * are being completed; each claims up to `concurrency / claimLoops` jobs at a time.
   * @default 2
   */
  claimLoops?: number;
  /** `wait_seconds` of each claim: long-polling, so a new job reaches an idle worker at once. @default 5 */
  waitSeconds?: number;
  /** Result sent on complete; must satisfy the payload's output_schema. */
  result: unknown;
  /** Called when a claim answer containing the job has been read (`performance.now()`). */
  onClaimed?: (jobId: string, at: number) => void;
  /** Called when the server acknowledged the job's completion (`performance.now()`). */
  onCompleted?: (jobId: string, at: number) => void;
}

/** A running worker. */
export interface ProtocolWorker {
  /** Jobs claimed so far. */
  readonly claimed: number;
  /** Jobs completed so far. */
  readonly completed: number;
  /** Failed claims or completes. */
  readonly errors: number;
  /** The first error, for the report. */
  readonly firstError: string | undefined;
  /** Stops claiming, waits for the jobs in hand to complete, closes connections. */
  stop(): Promise<void>;
}

/** The counters of a bench worker, updated as it goes; a worker is these plus `stop()`. */
export class WorkerCounters {
  claimed = 0;
  completed = 0;
  errors = 0;
  firstError: string | undefined;

  /** Counts a failure, keeping the first message for the report. */
  fail(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }
}

interface ClaimAnswer {
  jobs: { job: { id: string }; lease: { token: string } }[];
}

/**
 * Starts claiming at once; resolves immediately with the running worker.
 */
export function startProtocolWorker(options: ProtocolWorkerOptions): ProtocolWorker {
  const { origins, agentId, token, concurrency, claimLoops = 2, waitSeconds = 5, onClaimed, onCompleted } = options;
  const resultJson = JSON.stringify(options.result);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  // Enough connections for every job's complete plus every loop's long poll. A Pool costs the
  // client a little CPU per request to pick a connection; this worker's requests go wherever a
  // connection is free, which is what a Pool is for.
  const pools = origins.map((origin) => new Pool(origin, { connections: concurrency + claimLoops, pipelining: 1 }));
  const inFlight = new Set<Promise<void>>();
  const waiters: (() => void)[] = [];
  let running = true;
  let free = concurrency;
  const counters = new WorkerCounters();

  const release = (slots: number): void => {
    free += slots;
    while (slots-- > 0 && waiters.length) waiters.shift()!();
  };

  const complete = async (pool: Pool, jobId: string, leaseToken: string): Promise<void> => {
    try {
      const answer = await sendHttp(
        pool,
        {
          method: 'POST',
          path: `/v1/jobs/${jobId}/complete`,
          headers,
          body: `{"lease_token":${JSON.stringify(leaseToken)},"result":${resultJson}}`,
        },
        (status) => status !== 200,
      );
      if (answer.status !== 200) throw new Error(`complete ${jobId} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
      counters.completed++;
      onCompleted?.(jobId, performance.now());
    } catch (error) {
      counters.fail(error);
    } finally {
      release(1);
    }
  };

  const claimLoop = async (index: number): Promise<void> => {
    const pool = pools[index % pools.length]!;
    const share = Math.max(1, Math.ceil(concurrency / claimLoops));
    while (running) {
      if (free === 0) {
        await new Promise<void>((resolve) => waiters.push(resolve));
        continue;
      }
      // Reserve the slots before the claim, so two loops cannot both fill the same free slots.
      const want = Math.min(free, share, 100);
      free -= want;
      let claimAnswer: ClaimAnswer;
      try {
        const answer = await sendHttp(
          pool,
          { method: 'POST', path: `/v1/agents/${agentId}/claim`, headers, body: JSON.stringify({ max_jobs: want, wait_seconds: waitSeconds }) },
          true,
        );
        if (answer.status !== 200) throw new Error(`claim answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        claimAnswer = JSON.parse(answer.body) as ClaimAnswer;
      } catch (error) {
        release(want);
        if (!running) break;
        counters.fail(error);
        // Back off briefly so a refusing server is not hammered by a tight loop.
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const at = performance.now();
      release(want - claimAnswer.jobs.length);
      for (const { job, lease } of claimAnswer.jobs) {
        counters.claimed++;
        onClaimed?.(job.id, at);
        // The handler is a no-op: the job is completed as soon as it is claimed.
        const done = complete(pool, job.id, lease.token);
        inFlight.add(done);
        void done.then(() => inFlight.delete(done));
      }
    }
  };

  const loops = Array.from({ length: claimLoops }, (_, i) => claimLoop(i));

  return Object.assign(counters, {
    async stop() {
      running = false;
      for (const wake of waiters.splice(0)) wake();
      // Let the jobs in hand complete, then cut the long polls still waiting (destroy fails them,
      // and a loop that sees `running` false takes that as its signal to end).
      while (inFlight.size) await Promise.all(inFlight);
      await Promise.all(pools.map((pool) => pool.destroy()));
      await Promise.all(loops);
    },
  });
}

/**
 * The SDK's `runWorker` (`agentjobs/worker`) as the bench's end-to-end worker, with the counters of
 * {@link ProtocolWorker}: issue 6 measures end to end "by SDK workers (concurrency 64 in all)".
 * One `runWorker` per server origin, the 64 jobs in hand split between them, a no-op handler, the SDK's
 * own HTTP client. The SDK reports each result itself after the handler returns, so completions are
 * confirmed by the server: every 20 ms the agent's counts are read, and when none of its jobs is running,
 * every job handed to a handler before that read has been completed. The clock's end is therefore at most
 * one poll (20 ms) late, on runs of seconds; the polls add 50 requests a second.
 */
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';
import { WorkerCounters, type ProtocolWorker } from './protocol-worker.js';

/** Options of {@link startSdkWorker}. */
export interface SdkWorkerOptions {
  /** Server origins; one `runWorker` per origin (any process may serve any job, §8). */
  origins: string[];
  agentId: string;
  /** The agent's worker token (`awt_…`). */
  token: string;
  /** Jobs handled at once, across all origins. */
  concurrency: number;
  /** Returned by the handler; must satisfy the payload's output_schema. */
  result: unknown;
  /** An API key of the tenant, to read the agent's counts. */
  apiKey: string;
  /** `wait_seconds` of each claim. @default 5 */
  waitSeconds?: number;
  /** Called when jobs are confirmed completed (`performance.now()` of the confirming read). */
  onCompleted?: (jobId: string, at: number) => void;
}

const POLL_MS = 20;

/** Starts the SDK workers at once; resolves immediately with the running worker. */
export function startSdkWorker(options: SdkWorkerOptions): ProtocolWorker {
  const { origins, concurrency, onCompleted } = options;
  const counters = new WorkerCounters();
  let running = true;

  const confirm = async (): Promise<void> => {
    while (running) {
      if (counters.claimed > counters.completed) {
        const handed = counters.claimed;
        try {
          const answer = await request(`${origins[0]}/v1/agents/${options.agentId}`, { headers: { authorization: `Bearer ${options.apiKey}` } });
          const agent = (await answer.body.json()) as { counts: { running: number } };
          if (agent.counts.running === 0 && handed > counters.completed) {
            counters.completed = handed;
            onCompleted?.('', performance.now());
          }
        } catch (error) {
          counters.fail(error);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  const confirming = confirm();

  const share = Math.max(1, Math.ceil(concurrency / origins.length));
  const workers: WorkerHandle[] = origins.map((url) =>
    runWorker({
      url,
      agentId: options.agentId,
      token: options.token,
      concurrency: share,
      waitSeconds: options.waitSeconds ?? 5,
      onError: (error) => counters.fail(error),
      handler: () => {
        counters.claimed++;
        return options.result;
      },
    }),
  );

  return Object.assign(counters, {
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
      running = false;
      await confirming;
    },
  });
}

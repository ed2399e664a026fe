/**
 * The SDK's `runWorker` (`agentjobs/worker`) as the bench's end-to-end worker, with the counters of
 * {@link ProtocolWorker}: issue 6 measures end to end "by SDK workers (concurrency 64 in all)".
 * One `runWorker` per server origin, the 64 jobs in hand split between them, a no-op handler. The
 * SDK reports the result itself after the handler returns, so completions are counted where they
 * are acknowledged: on the `fetch` the SDK is given, at each 200 answer to a `…/complete`.
 */
import { performance } from 'node:perf_hooks';
import { runWorker, type WorkerHandle } from '../../src/sdk/worker.js';
import type { ProtocolWorker } from './protocol-worker.js';

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
  /** `wait_seconds` of each claim. @default 5 */
  waitSeconds?: number;
  /** Called when the server acknowledged a completion (`performance.now()`). */
  onCompleted?: (jobId: string, at: number) => void;
}

const COMPLETE_PATH = /\/v1\/jobs\/([^/]+)\/complete$/;

/** Starts the SDK workers at once; resolves immediately with the running worker. */
export function startSdkWorker(options: SdkWorkerOptions): ProtocolWorker {
  const { origins, concurrency, onCompleted } = options;
  let claimed = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (error: unknown): void => {
    errors++;
    firstError ??= error instanceof Error ? error.message : String(error);
  };

  const countingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const done = COMPLETE_PATH.exec(String(input));
    if (done && response.status === 200) {
      completed++;
      onCompleted?.(decodeURIComponent(done[1]!), performance.now());
    }
    return response;
  };

  const share = Math.max(1, Math.ceil(concurrency / origins.length));
  const workers: WorkerHandle[] = origins.map((url) =>
    runWorker({
      url,
      agentId: options.agentId,
      token: options.token,
      concurrency: share,
      waitSeconds: options.waitSeconds ?? 5,
      fetch: countingFetch,
      onError: fail,
      handler: () => {
        claimed++;
        return options.result;
      },
    }),
  );

  return {
    get claimed() {
      return claimed;
    },
    get completed() {
      return completed;
    },
    get errors() {
      return errors;
    },
    get firstError() {
      return firstError;
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
  };
}

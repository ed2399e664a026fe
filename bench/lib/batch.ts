/**
 * The shape of the batch group: every scenario stores batches of BATCH_SIZE jobs (the payload of
 * lib/payload.ts each), sent by BATCH_CALLERS concurrent callers, one batch per call.
 */

/** Jobs in one batch call (agentjobs' limit, and a common size for BullMQ's and pg-boss's bulk calls). */
export const BATCH_SIZE = 1000;

/** Concurrent callers, each with one batch in flight. Few: each call carries a thousand jobs. */
export const BATCH_CALLERS = 4;

import { Type, type Static } from '@sinclair/typebox';
import { Id, Metadata, Nullable, Timestamp } from './common.js';
import { DispatchRequest, ObserverView } from './jobs.js';

/** Most jobs in one batch. */
export const MAX_BATCH_JOBS = 1000;

/** One job of a batch: a dispatch request (the batch has one Idempotency-Key for all). */
export const BatchItem = DispatchRequest;
export type BatchItem = Static<typeof BatchItem>;

/** An observer of a batch: told once, with `batch.completed`, when every job of the batch has ended. */
export const BatchObserver = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives the signed batch.completed.' }),
    secret: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$', description: "Signing secret; default: the tenant's." })),
  },
  { additionalProperties: false },
);

/** `POST /v1/batches` (SPEC §11): all jobs stored in one transaction, or none. */
export const CreateBatchRequest = Type.Object(
  {
    jobs: Type.Array(BatchItem, { minItems: 1, maxItems: MAX_BATCH_JOBS, description: `1–${MAX_BATCH_JOBS} jobs.` }),
    observers: Type.Optional(Type.Array(BatchObserver, { maxItems: 10 })),
    metadata: Type.Optional(Metadata),
  },
  { additionalProperties: false },
);
export type CreateBatchRequest = Static<typeof CreateBatchRequest>;

/** The 202 of `POST /v1/batches`: the ids of the jobs in the order of the request. */
export const CreateBatchResponse = Type.Object({
  id: Id('batch'),
  job_ids: Type.Array(Id('job')),
  created_at: Timestamp,
});

/** How many jobs of a batch are in each status. */
export const BatchCounts = Type.Object({
  queued: Type.Integer(),
  running: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  cancelled: Type.Integer(),
});

/** A batch as `GET /v1/batches/{id}` shows it. */
export const Batch = Type.Object(
  {
    id: Id('batch'),
    total: Type.Integer({ description: 'Jobs in the batch.' }),
    counts: BatchCounts,
    metadata: Metadata,
    observers: Type.Array(ObserverView),
    created_at: Timestamp,
    completed_at: Nullable(Timestamp, { description: 'When the last job of the batch ended; null before.' }),
  },
  { $id: 'Batch' },
);
export type Batch = Static<typeof Batch>;

export const BatchIdParams = Type.Object({ batch_id: Type.String() });

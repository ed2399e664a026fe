import { Type, type Static } from '@sinclair/typebox';
import { Id } from './common.js';
import { Brief, JOB_STATUSES } from './jobs.js';

/** `POST /v1/jobs/{id}/rerun`: a new job with the original's brief, observers and metadata, and `rerun_of`. */
export const RerunRequest = Type.Object(
  {
    brief: Type.Optional(
      Type.Partial(Brief, { additionalProperties: false, description: "Fields that replace the original's (objective, context, output_schema, constraints)." }),
    ),
    agent_id: Type.Optional(Id('agent', "Another agent to run it; default: the original's.")),
  },
  { additionalProperties: false },
);
export type RerunRequest = Static<typeof RerunRequest>;

/** Which of the caller's jobs a bulk action moves. Every key given must match; at least one key. */
export const BulkFilter = Type.Object(
  {
    status: Type.Optional(Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)))),
    agent_id: Type.Optional(Type.String({ maxLength: 40 })),
    batch_id: Type.Optional(Type.String({ maxLength: 40 })),
    schedule_id: Type.Optional(Type.String({ maxLength: 40 })),
    created_after: Type.Optional(Type.String({ format: 'date-time' })),
    created_before: Type.Optional(Type.String({ format: 'date-time' })),
    metadata: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 40 }), Type.String({ maxLength: 500 }), {
        maxProperties: 50,
        description: 'Jobs whose metadata has these values at these keys, compared as text.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type BulkFilter = Static<typeof BulkFilter>;

/** `POST /v1/jobs/bulk-cancel` and `POST /v1/jobs/bulk-rerun`. */
export const BulkRequest = Type.Object(
  { filter: BulkFilter },
  { additionalProperties: false },
);
export type BulkRequest = Static<typeof BulkRequest>;

/** The 202 of a bulk action: how many jobs it moved. */
export const BulkResponse = Type.Object({
  matched: Type.Integer({ description: 'Jobs cancelled (queued or running ones) or re-run.' }),
});


import { Type, type Static } from '@sinclair/typebox';
import { AnyJson, Id, LeaseToken, Metadata, Timestamp } from './common.js';
import { Brief, DelayedStart, Job, Observer } from './jobs.js';
import { InputRequest, JobMessage } from './interactive.js';

const TokensUsed = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "The job's own running total so far (not an increment); smaller numbers than the last are ignored.",
});

/** `POST /v1/agents/{agent_id}/claim`. */
export const ClaimRequest = Type.Object(
  {
    max_jobs: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
    wait_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 30, default: 0 })),
    lease_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    worker_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'A name for this worker process, for "workers seen".' }),
    ),
  },
  { additionalProperties: false },
);
export type ClaimRequest = Static<typeof ClaimRequest>;

export const Lease = Type.Object({ token: Type.String(), expires_at: Timestamp });
export const ClaimedJob = Type.Object({
  job: Type.Ref(Job),
  lease: Lease,
  inputs: Type.Array(Type.Ref(InputRequest), { description: 'Every request of this job with its answer, oldest first.' }),
  messages: Type.Array(JobMessage, { description: 'Every message sent to this job, oldest first.' }),
});
export const ClaimResponse = Type.Object({ jobs: Type.Array(ClaimedJob) });

/** `POST /v1/jobs/{id}/heartbeat`. */
export const HeartbeatRequest = Type.Object(
  {
    lease_token: LeaseToken,
    progress: Type.Optional(
      Type.Object(
        {
          percent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
          message: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        { additionalProperties: false },
      ),
    ),
    tokens_used: Type.Optional(TokensUsed),
  },
  { additionalProperties: false },
);
export type HeartbeatRequest = Static<typeof HeartbeatRequest>;
export const HeartbeatResponse = Type.Object({
  lease: Type.Object({ expires_at: Timestamp }),
  cancel_requested: Type.Boolean(),
  messages: Type.Array(JobMessage, { description: 'Messages sent to the job that this lease has not been handed yet.' }),
});

/** `POST /v1/jobs/{id}/complete`. */
export const CompleteRequest = Type.Object(
  { lease_token: LeaseToken, result: AnyJson, tokens_used: Type.Optional(TokensUsed) },
  { additionalProperties: false },
);
export type CompleteRequest = Static<typeof CompleteRequest>;

/** `POST /v1/jobs/{id}/fail`. */
export const FailRequest = Type.Object(
  {
    lease_token: LeaseToken,
    error: Type.Object(
      {
        code: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'snake_case, default agent_error' })),
        message: Type.String({ minLength: 1, maxLength: 10_000 }),
        details: Type.Optional(AnyJson),
      },
      { additionalProperties: false },
    ),
    retryable: Type.Optional(Type.Boolean({ default: false, description: 'Re-queue while attempts remain.' })),
    tokens_used: Type.Optional(TokensUsed),
  },
  { additionalProperties: false },
);
export type FailRequest = Static<typeof FailRequest>;

/** `POST /v1/jobs/{id}/subjobs`: a dispatch made by the agent that holds the parent's lease. */
export const SubjobRequest = Type.Object(
  {
    lease_token: LeaseToken,
    agent_id: Id('agent'),
    brief: Brief,
    observers: Type.Optional(Type.Array(Observer, { maxItems: 10 })),
    metadata: Type.Optional(Metadata),
    on_parent_end: Type.Optional(
      Type.Union([Type.Literal('cancel'), Type.Literal('continue')], {
        default: 'cancel',
        description: 'What happens to this child when its parent ends first.',
      }),
    ),
    ...DelayedStart,
  },
  { additionalProperties: false },
);
export type SubjobRequest = Static<typeof SubjobRequest>;

/** `POST /v1/jobs/{id}/subjobs/{child_id}/wait`: long-poll until a child is finished. */
export const WaitSubjobRequest = Type.Object(
  { lease_token: LeaseToken, wait_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 30, default: 25 })) },
  { additionalProperties: false },
);
/** `POST /v1/jobs/{id}/subjobs/{child_id}/cancel`. */
export const CancelSubjobRequest = Type.Object({ lease_token: LeaseToken }, { additionalProperties: false });

export const SubjobParams = Type.Object({ job_id: Type.String(), child_id: Type.String() });

/** `POST /v1/jobs/{id}/tool-calls`. */
export const ToolCallRequest = Type.Object(
  {
    lease_token: LeaseToken,
    tool: Type.String({ minLength: 1, maxLength: 200 }),
    input: Type.Optional(AnyJson),
    approval_request_id: Type.Optional(
      Id('inputRequest', 'For a tool in approval_required_tools: the approval request the call was answered on.'),
    ),
  },
  { additionalProperties: false },
);
export type ToolCallRequest = Static<typeof ToolCallRequest>;
export const ToolCallResponse = Type.Object({ allowed: Type.Literal(true), event_id: Id('event') });

export const AgentIdParams = Type.Object({ agent_id: Type.String() });

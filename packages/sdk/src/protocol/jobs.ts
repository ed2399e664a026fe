import { Type, type Static } from '@sinclair/typebox';
import { AnyJson, DEEP_OBJECT_PARAMETERS, Id, Metadata, Nullable, NullableTimestamp, Page, PageQuery, Timestamp } from './common.js';
import { ArtifactView, InputRequest } from './interactive.js';

/** The four statuses an observer is told about by default. */
export const OBSERVABLE_EVENTS = ['running', 'completed', 'failed', 'cancelled'] as const;

/** Everything an observer may ask for: the four statuses, and `input_required` (a job asks a person). */
export const OBSERVER_EVENTS = [...OBSERVABLE_EVENTS, 'input_required'] as const;
export type ObserverEvent = (typeof OBSERVER_EVENTS)[number];

/** Every status a job can have. Terminal ones never change again. */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * How long a job waits before its next attempt after a retryable `fail` or an expired lease (SPEC §11). Without
 * it, a retried job is ready again at once.
 */
export const RetryPolicy = Type.Object(
  {
    backoff: Type.Optional(
      Type.Union([Type.Literal('exponential'), Type.Literal('fixed')], {
        default: 'exponential',
        description: 'exponential: initial_seconds × 2^(attempt − 1), up to max_seconds; fixed: initial_seconds every time.',
      }),
    ),
    initial_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400, default: 1, description: 'The first delay (default 1).' })),
    max_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 604_800, default: 300, description: 'The longest delay (default 300).' })),
  },
  {
    additionalProperties: false,
    description: 'Backoff between attempts. Each delay is drawn between 80 % and 100 % of the policy\'s (jitter), so retries spread out.',
  },
);
export type RetryPolicy = Static<typeof RetryPolicy>;

const ToolNames = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 });

/**
 * Constraints of SPEC §4.3. Known keys are checked here and enforced by the server; unknown keys are kept and
 * handed to the agent untouched.
 */
export const Constraints = Type.Object(
  {
    max_duration_seconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 2_592_000, description: 'Wall time from first start to end.' }),
    ),
    max_queue_seconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 2_592_000, description: 'How long the job may wait in queued.' }),
    ),
    max_tokens: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Token budget of the job and its descendants.' }),
    ),
    allowed_tools: Type.Optional(ToolNames),
    denied_tools: Type.Optional(ToolNames),
    approval_required_tools: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
        maxItems: 1000,
        description: 'Tools whose every call waits for a person to approve it (SPEC §9.1).',
      }),
    ),
    max_subjobs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Direct children this job may dispatch.' })),
    max_depth: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'How deep its subtree may go.' })),
    max_attempts: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'Runs allowed when workers vanish (default 3).' }),
    ),
    retry: Type.Optional(RetryPolicy),
  },
  { additionalProperties: true },
);
export type Constraints = Static<typeof Constraints>;

/** The structured brief of the seed: objective, context, output_schema, constraints. */
export const Brief = Type.Object(
  {
    objective: Type.String({ minLength: 1, description: 'What the agent should accomplish (required, non-empty).' }),
    context: Type.Optional(Type.String({ description: 'Background information relevant to the task.' })),
    output_schema: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'JSON Schema (draft 2020-12) the result must match.' }),
    ),
    constraints: Type.Optional(Constraints),
  },
  { additionalProperties: false },
);
export type Brief = Static<typeof Brief>;

/** A webhook observer as registered at dispatch. */
export const Observer = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL that receives signed POSTs.' }),
    events: Type.Optional(
      Type.Array(Type.Union(OBSERVER_EVENTS.map((e) => Type.Literal(e))), {
        minItems: 1,
        uniqueItems: true,
        description: 'Transitions to send (default: running, completed, failed, cancelled); input_required on request.',
      }),
    ),
    secret: Type.Optional(
      Type.String({
        pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$',
        description: "Signing secret for this observer (whsec_ + base64 of 24–64 bytes); default: the tenant's.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type Observer = Static<typeof Observer>;

/** An observer as shown back: never the secret. */
export const ObserverView = Type.Object({
  type: Type.Literal('webhook'),
  url: Type.String(),
  events: Type.Array(Type.String()),
  has_secret: Type.Boolean({ description: 'True when the observer has its own secret.' }),
});

/** When a job may start: `not_before` or `delay_seconds` (one of them), on dispatch, subjobs and batch items. */
export const DelayedStart = {
  not_before: Type.Optional(
    Type.String({
      format: 'date-time',
      description: 'RFC 3339: the job is not claimed before this time (a time in the past means now). Not with delay_seconds.',
    }),
  ),
  delay_seconds: Type.Optional(
    Type.Number({ minimum: 0, description: 'The job is not claimed for this many seconds. Not with not_before.' }),
  ),
};

/** `POST /v1/jobs` — the seed's request, and a delayed start (SPEC §11). */
export const DispatchRequest = Type.Object(
  {
    agent_id: Id('agent', 'The agent that should run the job.'),
    brief: Brief,
    observers: Type.Optional(Type.Array(Observer, { maxItems: 10 })),
    metadata: Type.Optional(Metadata),
    ...DelayedStart,
  },
  { additionalProperties: false },
);
export type DispatchRequest = Static<typeof DispatchRequest>;

/** The seed's 202 body: exactly these four fields. */
export const DispatchResponse = Type.Object({
  id: Id('job'),
  agent_id: Id('agent'),
  status: Type.Literal('queued'),
  created_at: Timestamp,
});

export const JobError = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});
export const Progress = Type.Object({
  percent: Nullable(Type.Number()),
  message: Nullable(Type.String()),
  updated_at: Timestamp,
});

/** A node of the subjob tree inside a job object. */
export interface SubjobNode {
  id: string;
  agent_id: string;
  status: JobStatus;
  created_at: string;
  completed_at: string | null;
  tokens_used: number;
  subjobs: SubjobNode[];
}
export const SubjobNode = Type.Recursive(
  (Self) =>
    Type.Object({
      id: Id('job'),
      agent_id: Id('agent'),
      status: Type.String(),
      created_at: Timestamp,
      completed_at: NullableTimestamp,
      tokens_used: Type.Integer(),
      subjobs: Type.Array(Self),
    }),
  { $id: 'SubjobNode' },
);

const JobStatusSchema = Type.Union(JOB_STATUSES.map((s) => Type.Literal(s)));

/** The job object of `GET /v1/jobs/{id}`: the seed's fields plus the extensions of SPEC §4. */
export const Job = Type.Object(
  {
    id: Id('job'),
    agent_id: Id('agent'),
    status: JobStatusSchema,
    brief: Brief,
    result: Type.Unknown({ description: 'null until completed' }),
    error: Nullable(JobError),
    progress: Nullable(Progress),
    subjobs: Type.Array(Type.Ref(SubjobNode)),
    tokens_used: Type.Integer({ description: 'Tokens of this job plus all its descendants.' }),
    tokens_used_self: Type.Integer(),
    attempt: Type.Integer({ description: 'The current (or last) run, from 1.' }),
    max_attempts: Type.Integer(),
    parent_job_id: Nullable(Id('job')),
    root_job_id: Id('job'),
    depth: Type.Integer(),
    on_parent_end: Type.Union([Type.Literal('cancel'), Type.Literal('continue')]),
    metadata: Metadata,
    observers: Type.Array(ObserverView),
    created_at: Timestamp,
    started_at: NullableTimestamp,
    completed_at: NullableTimestamp,
    cancel_requested_at: NullableTimestamp,
    deadline_at: Nullable(Timestamp),
    waiting_for: Nullable(Type.Ref(InputRequest), {
      description: 'The pending request while the job waits for a person (it holds no lease then), else null.',
    }),
    artifacts: Type.Array(ArtifactView, { description: 'Files the job stored, without their content.' }),
    scheduled_for: Nullable(Timestamp, { description: 'When the job may start, if it was delayed (not_before, delay_seconds, a retry backoff, a schedule\'s fire time); null otherwise.' }),
    schedule_id: Nullable(Id('schedule'), { description: 'The schedule that dispatched it.' }),
    batch_id: Nullable(Id('batch'), { description: 'The batch it was dispatched in.' }),
    rerun_of: Nullable(Id('job'), { description: 'The job this one re-runs.' }),
  },
  { $id: 'Job' },
);
export type Job = Static<typeof Job>;

/** The value of one `metadata[key]=value` filter: compared with the job's metadata value as text. */
const MetadataFilterValue = Type.String({ maxLength: 500 });

/** `GET /v1/jobs` filters: the one schema that the server validates with and that the SDK's client is typed by. */
export const ListJobsQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(JobStatusSchema),
    agent_id: Type.Optional(Type.String({ maxLength: 40 })),
    parent_job_id: Type.Optional(Type.String({ maxLength: 40 })),
    root_job_id: Type.Optional(Type.String({ maxLength: 40 })),
    batch_id: Type.Optional(Type.String({ maxLength: 40 })),
    schedule_id: Type.Optional(Type.String({ maxLength: 40 })),
    created_after: Type.Optional(Type.String({ format: 'date-time' })),
    created_before: Type.Optional(Type.String({ format: 'date-time' })),
    waiting: Type.Optional(Type.Boolean({ description: 'true: only jobs waiting for a person (waiting_for set).' })),
  },
  {
    additionalProperties: false,
    // Each `metadata[key]` arrives as a query parameter of that name; the OpenAPI document shows them as one.
    patternProperties: { '^metadata\\[[^\\]]{1,40}\\]$': MetadataFilterValue },
    [DEEP_OBJECT_PARAMETERS]: {
      metadata: Type.Object(
        {},
        {
          additionalProperties: MetadataFilterValue,
          propertyNames: { minLength: 1, maxLength: 40 },
          description:
            'metadata[key]=value (e.g. ?metadata[customer]=acme): only jobs whose metadata has this value at this key, compared as text. Several keys must all match.',
        },
      ),
    },
  },
);

/** The query of `GET /v1/jobs` on the wire: each `metadata[key]` filter is a parameter of its own. */
export type ListJobsQuery = Static<typeof ListJobsQuery> & { [metadataFilter: `metadata[${string}]`]: string };

/** The filters of `GET /v1/jobs` as the SDK's client takes them: the metadata filters as one object. */
export type ListJobsFilters = Static<typeof ListJobsQuery> & { metadata?: Record<string, string> };

/** The `metadata[key]=value` query parameters of a metadata filter. */
export function metadataFilterParams(metadata: Record<string, string> | undefined): Record<`metadata[${string}]`, string> {
  const params: Record<`metadata[${string}]`, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) params[`metadata[${key}]`] = value;
  return params;
}

/** The metadata filters of a validated query, as [key, value] pairs. */
export function metadataFilters(query: ListJobsQuery): Array<[string, string]> {
  return Object.entries(query)
    .filter(([name]) => name.startsWith('metadata['))
    .map(([name, value]) => [name.slice('metadata['.length, -1), String(value)]);
}

export const JobList = Page(Type.Ref(Job));

export const JobIdParams = Type.Object({ job_id: Type.String() });

/** The events that may appear in `GET /v1/jobs/{id}/events`. */
export const EVENT_TYPES = [
  'job.queued',
  'job.running',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'job.cancel_requested',
  'job.progress',
  'job.subjob_dispatched',
  'job.tool_call',
  'job.error',
  'job.input_required',
  'job.input_received',
  'job.resumed',
  'job.message',
  'job.output',
  'job.artifact',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One entry of a job's event log. */
export const JobEvent = Type.Object(
  {
    id: Id('event'),
    type: Type.String(),
    job_id: Id('job'),
    sequence: Type.Integer({ description: 'Strictly increasing within the job tree, in commit order.' }),
    created_at: Timestamp,
    data: Type.Unknown(),
  },
  { $id: 'JobEvent' },
);
export type JobEvent = Static<typeof JobEvent>;

export const ListEventsQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ maxLength: 40, description: 'Only events after this event id.' })),
    include: Type.Optional(Type.Literal('subjobs')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export const EventList = Type.Object({ data: Type.Array(Type.Ref(JobEvent)), next_cursor: Nullable(Type.String()) });

/** One POST attempt of a webhook message. */
export const DeliveryAttempt = Type.Object({
  id: Id('delivery'),
  attempted_at: Timestamp,
  status_code: Nullable(Type.Integer()),
  latency_ms: Type.Integer(),
  outcome: Type.String(),
  error: Nullable(Type.String()),
});

/** A webhook message and its attempts. */
export const DeliveryMessage = Type.Object(
  {
    id: Id('message'),
    job_id: Id('job'),
    observer_job_id: Id('job'),
    url: Type.String(),
    type: Type.String(),
    sequence: Type.Integer(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Array(DeliveryAttempt),
    next_attempt_at: NullableTimestamp,
    created_at: Timestamp,
    delivered_at: NullableTimestamp,
  },
  { $id: 'DeliveryMessage' },
);
export const DeliveryList = Type.Object({ data: Type.Array(Type.Ref(DeliveryMessage)), next_cursor: Nullable(Type.String()) });

export const AnyResult = AnyJson;

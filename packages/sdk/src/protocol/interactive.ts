import { Type, type Static } from '@sinclair/typebox';
import { AnyJson, Id, LeaseToken, Nullable, NullableTimestamp, Page, PageQuery, Timestamp } from './common.js';

/**
 * Interactive jobs (SPEC §9): a job that asks a person and waits, messages into a running job, output that
 * streams while it runs, and artifacts.
 */

/** What a request asks for: free input (checked against `input_schema`) or a yes/no approval. */
export const INPUT_KINDS = ['input', 'approval'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** A request is pending until it is answered, passes its `expires_at`, or its job ends first. */
export const INPUT_REQUEST_STATUSES = ['pending', 'answered', 'expired', 'cancelled'] as const;
export type InputRequestStatus = (typeof INPUT_REQUEST_STATUSES)[number];

/** The `input_schema` of every approval: its answer is `{"approved": bool, "note"?: string}`. */
export const APPROVAL_INPUT_SCHEMA = {
  type: 'object',
  properties: { approved: { type: 'boolean' }, note: { type: 'string', maxLength: 10_000 } },
  required: ['approved'],
  additionalProperties: false,
} as const;

/** A JSON Schema (draft 2020-12) given by a client or an agent. */
const JsonSchema = Type.Object({}, { additionalProperties: true, description: 'A JSON Schema, draft 2020-12.' });

/** A question a job asks a person, with its answer once there is one. */
export const InputRequest = Type.Object(
  {
    id: Id('inputRequest'),
    job_id: Id('job'),
    kind: Type.Union(INPUT_KINDS.map((k) => Type.Literal(k))),
    prompt: Type.String(),
    input_schema: Nullable(JsonSchema),
    status: Type.Union(INPUT_REQUEST_STATUSES.map((s) => Type.Literal(s))),
    requested_at: Timestamp,
    expires_at: NullableTimestamp,
    answered_at: NullableTimestamp,
    input: Type.Unknown({ description: 'The answer once answered, else null.' }),
    tool: Nullable(Type.String({ description: 'For an approval of a tool call: the tool.' })),
    tool_input: Type.Unknown({ description: "For an approval of a tool call: the call's input, or null." }),
  },
  { $id: 'InputRequest' },
);
export type InputRequest = Static<typeof InputRequest>;
const InputRequestRef = Type.Ref(InputRequest);

/** `POST /v1/jobs/{id}/input-requests` (worker): ask a person; the lease ends with the request. */
export const CreateInputRequest = Type.Object(
  {
    lease_token: LeaseToken,
    prompt: Type.String({ minLength: 1, maxLength: 65_536, description: 'What to ask, for a person to read.' }),
    kind: Type.Optional(Type.Union(INPUT_KINDS.map((k) => Type.Literal(k)), { default: 'input' })),
    input_schema: Type.Optional(JsonSchema),
    timeout_seconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2_592_000, description: 'Unanswered this long, the job fails with input_timeout.' }),
    ),
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'An approval may name the tool it is about.' })),
    tool_input: Type.Optional(AnyJson),
  },
  { additionalProperties: false },
);
export type CreateInputRequest = Static<typeof CreateInputRequest>;
export const InputRequestCreated = Type.Object({ request: InputRequestRef });

/** `POST /v1/jobs/{id}/input` (client): the answer to a pending request. */
export const AnswerInputRequest = Type.Object(
  {
    request_id: Id('inputRequest', 'The pending request (the job’s waiting_for.id).'),
    input: Type.Unknown({ description: 'Checked against the request’s input_schema; an approval takes {"approved": bool, "note"?: string}.' }),
  },
  { additionalProperties: false },
);
export type AnswerInputRequest = Static<typeof AnswerInputRequest>;

/** `GET /v1/jobs/{id}/input-requests`: the inbox of one job or, with `include=subjobs`, of its subtree. */
export const ListInputRequestsQuery = Type.Object(
  {
    ...PageQuery,
    include: Type.Optional(Type.Literal('subjobs')),
    status: Type.Optional(Type.Union(INPUT_REQUEST_STATUSES.map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
);
export const InputRequestList = Page(InputRequestRef);

/** A message sent into a job. */
export const JobMessage = Type.Object({
  id: Id('jobMessage'),
  job_id: Id('job'),
  content: Type.Unknown({ description: 'A string or an object, as sent.' }),
  created_at: Timestamp,
});
export type JobMessage = Static<typeof JobMessage>;

/** `POST /v1/jobs/{id}/messages` (client). */
export const SendMessageRequest = Type.Object(
  {
    content: Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
      description: 'Text, or an object for agents that take structured messages.',
    }),
  },
  { additionalProperties: false },
);
export type SendMessageRequest = Static<typeof SendMessageRequest>;
export const MessageList = Page(JobMessage);

/** The name of an output stream. */
const StreamName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'A stream name (default "default").' });

/** `POST /v1/jobs/{id}/output` (worker): a piece of output text. */
export const OutputRequest = Type.Object(
  {
    lease_token: LeaseToken,
    delta: Type.String({ minLength: 1, description: 'Text to append to the stream.' }),
    stream: Type.Optional(StreamName),
  },
  { additionalProperties: false },
);
export type OutputRequest = Static<typeof OutputRequest>;
export const OutputAccepted = Type.Object({ event_id: Id('event') });

/** `GET /v1/jobs/{id}/output`: the whole text of each stream so far. */
export const JobOutput = Type.Object({ streams: Type.Record(Type.String(), Type.String()) });

/** An artifact as listed: without its content. */
export const ArtifactView = Type.Object({
  id: Id('artifact'),
  name: Type.String(),
  media_type: Type.String(),
  size: Type.Integer({ description: 'Bytes of content.' }),
  created_at: Timestamp,
});
export type ArtifactView = Static<typeof ArtifactView>;

/** `POST /v1/jobs/{id}/artifacts` (worker): exactly one of `text`, `data` (JSON) or `base64`. */
export const CreateArtifactRequest = Type.Object(
  {
    lease_token: LeaseToken,
    name: Type.String({ minLength: 1, maxLength: 255 }),
    media_type: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\\s*;.{0,200})?$',
      description: 'e.g. text/markdown, application/json, image/png',
    }),
    text: Type.Optional(Type.String({ description: 'Content as text (stored as UTF-8).' })),
    data: Type.Optional(AnyJson),
    base64: Type.Optional(Type.String({ description: 'Content as base64 (binary).' })),
  },
  { additionalProperties: false },
);
export type CreateArtifactRequest = Static<typeof CreateArtifactRequest>;
export const ArtifactList = Page(ArtifactView);
export const ArtifactParams = Type.Object({ job_id: Type.String(), artifact_id: Type.String() });

/** A tool call that needs a person's approval first: the job waits for the answer. */
export const ToolCallPending = Type.Object({
  status: Type.Literal('pending_approval'),
  request: InputRequestRef,
});

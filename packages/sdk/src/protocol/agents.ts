import { Type, type Static } from '@sinclair/typebox';
import { Id, Nullable, NullableTimestamp, Page, Timestamp } from './common.js';

/** The agent's code runs anywhere and pulls work over the worker protocol. */
export const WorkerRuntime = Type.Object({ type: Type.Literal('worker') }, { additionalProperties: false });

/** The server runs the agent loop against an OpenAI-compatible chat completions endpoint. */
export const ModelRuntime = Type.Object(
  {
    type: Type.Literal('model'),
    base_url: Type.String({ minLength: 1, maxLength: 2048, description: 'e.g. https://api.openai.com/v1' }),
    model: Type.String({ minLength: 1, maxLength: 200 }),
    api_key_env: Type.Optional(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$', description: 'Environment variable holding the API key.' }),
    ),
    instructions: Type.Optional(Type.String({ maxLength: 100_000 })),
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
    max_turns: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'Model calls per run (default 20).' })),
    request_timeout_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600 })),
    ask_user: Type.Optional(
      Type.Boolean({ description: 'Offer the model an ask_user tool: the job waits for a person’s answer (SPEC §9.1).' }),
    ),
  },
  { additionalProperties: false },
);

export const Runtime = Type.Union([WorkerRuntime, ModelRuntime]);
export type Runtime = Static<typeof Runtime>;

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 10_000 });
const MaxConcurrency = Nullable(
  Type.Integer({ minimum: 1, maximum: 100_000, description: 'Running jobs at once across all workers (null: no limit).' }),
);

/** `POST /v1/agents`. */
export const CreateAgentRequest = Type.Object(
  {
    name: Name,
    description: Type.Optional(Description),
    runtime: Type.Optional(Runtime),
    max_concurrency: Type.Optional(MaxConcurrency),
  },
  { additionalProperties: false },
);
export type CreateAgentRequest = Static<typeof CreateAgentRequest>;

/** `PATCH /v1/agents/{id}`: only the fields given change. */
export const UpdateAgentRequest = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Nullable(Description)),
    runtime: Type.Optional(Runtime),
    max_concurrency: Type.Optional(MaxConcurrency),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAgentRequest = Static<typeof UpdateAgentRequest>;

export const Agent = Type.Object(
  {
    id: Id('agent'),
    name: Type.String(),
    description: Nullable(Type.String()),
    runtime: Runtime,
    max_concurrency: Nullable(Type.Integer()),
    counts: Type.Object({
      queued: Type.Integer(),
      running: Type.Integer({ description: 'Jobs a worker holds a lease on (the ones max_concurrency counts).' }),
      waiting: Type.Integer({ description: 'Running jobs waiting for a person: no worker holds them.' }),
      workers_seen_last_minute: Type.Integer(),
    }),
    last_seen_at: NullableTimestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Agent' },
);
export type Agent = Static<typeof Agent>;

export const AgentCreated = Type.Object({
  ...Agent.properties,
  worker_token: Nullable(Type.String({ description: 'Shown once. Workers authenticate with it.' })),
});
export const AgentList = Page(Type.Ref(Agent));

export const WorkerTokenView = Type.Object({
  id: Id('workerToken'),
  agent_id: Id('agent'),
  hint: Type.String({ description: 'The first and last characters, to recognise a token.' }),
  created_at: Timestamp,
  revoked_at: NullableTimestamp,
});
export const WorkerTokenCreated = Type.Object({
  ...WorkerTokenView.properties,
  token: Nullable(Type.String({ description: 'Shown once.' })),
});
export const WorkerTokenList = Type.Object({ data: Type.Array(WorkerTokenView), next_cursor: Nullable(Type.String()) });
export const WorkerTokenParams = Type.Object({ agent_id: Type.String(), token_id: Type.String() });

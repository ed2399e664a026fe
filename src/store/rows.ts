import type { JobStatus } from '@agentjobs/sdk/protocol';
import type { Millis } from '../domain/time.js';

/** A row of `tenants`. */
export interface TenantRow {
  id: string;
  name: string;
  webhook_secret: string;
  webhook_secret_previous: string | null;
  webhook_secret_previous_until: Millis | null;
  created_at: Millis;
}

/** A row of `api_keys`; the key itself is never stored, only its hash. */
export interface ApiKeyRow {
  id: string;
  tenant_id: string;
  token_hash: string;
  hint: string;
  name: string | null;
  created_at: Millis;
  revoked_at: Millis | null;
}

/** A row of `agents`. `runtime` is JSON text. */
export interface AgentRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  runtime: string;
  max_concurrency: number | null;
  last_seen_at: Millis | null;
  created_at: Millis;
  updated_at: Millis;
  deleted_at: Millis | null;
}

/** A row of `worker_tokens`. */
export interface WorkerTokenRow {
  id: string;
  agent_id: string;
  tenant_id: string;
  token_hash: string;
  hint: string;
  created_at: Millis;
  revoked_at: Millis | null;
}

/** One observer in a job's `observers` column: registered on `job_id` (the job or one of its ancestors). */
export interface StoredObserver {
  job_id: string;
  url: string;
  events: string[];
  secret: string | null;
}

/** A row of `jobs`. JSON columns hold text exactly as it goes on the wire. */
export interface JobRow {
  id: string;
  tenant_id: string;
  agent_id: string;
  status: JobStatus;
  brief: string;
  metadata: string;
  observers: string;
  output_schema: string | null;
  parent_job_id: string | null;
  root_job_id: string;
  path: string;
  depth: number;
  on_parent_end: 'cancel' | 'continue';
  result: string | null;
  error: string | null;
  progress: string | null;
  tokens_self: number;
  tokens_total: number;
  token_budget: number | null;
  attempt: number;
  max_attempts: number;
  lease_token: string | null;
  lease_expires_at: Millis | null;
  lease_ms: number | null;
  worker_id: string | null;
  deadline_at: Millis | null;
  queue_deadline_at: Millis | null;
  max_duration_ms: number | null;
  timer_at: Millis | null;
  /**
   * From when a claim may hand the job out; null while a worker holds it, while it waits, and once it ended.
   * Claims take ready jobs in this order: a new job is ready at its creation.
   */
  ready_at: Millis | null;
  /** When a delayed job may start (a delayed dispatch, a retry's backoff, a schedule's fire time); null otherwise. */
  scheduled_for: Millis | null;
  /** The schedule that dispatched the job. */
  schedule_id: string | null;
  /** The batch the job was dispatched in. */
  batch_id: string | null;
  /** The job this one re-runs. */
  rerun_of: string | null;
  depth_limit: number;
  subjob_limit: number;
  child_count: number;
  cancel_requested_at: Millis | null;
  cancel_code: string | null;
  transition_seq: number;
  event_seq: number;
  created_at: Millis;
  started_at: Millis | null;
  completed_at: Millis | null;
  updated_at: Millis;
  /** The pending input request as JSON text exactly as it goes on the wire, or null when the job waits for none. */
  waiting_for: string | null;
  /** When the pending input request expires, or null (a candidate of `timer_at`). */
  input_expires_at: Millis | null;
  /** Input requests this job has made. */
  input_count: number;
  /** Messages sent to this job (each has its number, from 1). */
  message_count: number;
  /** How many messages the current lease has been handed (a claim hands all, heartbeats the rest). */
  messages_handed: number;
  /** Bytes of output deltas so far, all streams together. */
  output_bytes: number;
  /** The job's artifacts without content, as a JSON array exactly as it goes on the wire. */
  artifacts: string;
}

/** The columns of a job that the subjob tree of a job object shows. */
export type JobNodeRow = Pick<
  JobRow,
  'id' | 'agent_id' | 'status' | 'parent_job_id' | 'created_at' | 'completed_at' | 'tokens_total'
>;

/** A row of `events`. */
export interface EventRow {
  id: string;
  tenant_id: string;
  job_id: string;
  root_job_id: string;
  sequence: number;
  type: string;
  data: string;
  created_at: Millis;
}

/** A row of `webhook_messages` (the outbox). */
export interface MessageRow {
  id: string;
  tenant_id: string;
  job_id: string;
  observer_job_id: string;
  url: string;
  endpoint: string;
  secret: string | null;
  type: string;
  sequence: number;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Millis | null;
  created_at: Millis;
  delivered_at: Millis | null;
}

/** A row of `delivery_attempts`. */
export interface AttemptRow {
  id: string;
  message_id: string;
  attempted_at: Millis;
  status_code: number | null;
  latency_ms: number;
  outcome: string;
  error: string | null;
}

/** A row of `idempotency_keys`. */
export interface IdempotencyRow {
  tenant_id: string;
  scope: string;
  key: string;
  fingerprint: string;
  status_code: number | null;
  response: string | null;
  created_at: Millis;
}

/** A row of `input_requests`. JSON columns hold text exactly as it goes on the wire. */
export interface InputRequestRow {
  id: string;
  tenant_id: string;
  job_id: string;
  root_job_id: string;
  kind: 'input' | 'approval';
  prompt: string;
  input_schema: string | null;
  tool: string | null;
  tool_input: string | null;
  status: 'pending' | 'answered' | 'expired' | 'cancelled';
  requested_at: Millis;
  expires_at: Millis | null;
  answered_at: Millis | null;
  input: string | null;
  /** Private to the server: the model runtime's conversation, to resume it after the answer. */
  runtime_state: string | null;
}

/** A row of `job_messages`. `content` is JSON text. */
export interface JobMessageRow {
  job_id: string;
  seq: number;
  id: string;
  tenant_id: string;
  content: string;
  created_at: Millis;
}

/** A row of `artifacts`. */
export interface ArtifactRow {
  id: string;
  tenant_id: string;
  job_id: string;
  name: string;
  media_type: string;
  size: number;
  content: Buffer;
  created_at: Millis;
}

/** A row of `schedules`. JSON columns hold text as it goes on the wire; `observers` keeps their secrets. */
export interface ScheduleRow {
  id: string;
  tenant_id: string;
  agent_id: string;
  brief: string;
  cron: string;
  timezone: string;
  overlap: 'skip' | 'allow' | 'cancel_previous';
  observers: string;
  metadata: string;
  /** The next fire time; null while paused. */
  next_run_at: Millis | null;
  last_run_at: Millis | null;
  last_job_id: string | null;
  created_at: Millis;
  updated_at: Millis;
}

/** A row of `schedule_fires`: what one fire of a schedule did. */
export interface ScheduleFireRow {
  schedule_id: string;
  fire_at: Millis;
  job_id: string | null;
  outcome: 'dispatched' | 'skipped_overlap' | 'skipped_agent_gone';
  created_at: Millis;
}

/** A row of `batches`. */
export interface BatchRow {
  id: string;
  tenant_id: string;
  /** Batch observers with their secrets (`[{url, secret}]`). */
  observers: string;
  metadata: string;
  total: number;
  /** Jobs of the batch that have ended. */
  ended: number;
  created_at: Millis;
  completed_at: Millis | null;
}

import type { Static } from '@sinclair/typebox';
import { createParser } from 'eventsource-parser';
import type {
  Agent,
  ArtifactView,
  ApiKeyCreated,
  Batch,
  BulkFilter,
  CreateBatchRequest,
  CreateBatchResponse,
  CreateScheduleRequest,
  ListSchedulesQuery,
  RerunRequest,
  Schedule,
  UpdateScheduleRequest,
  ApiKeyView,
  AgentCreated,
  CreateAgentRequest,
  DeliveryMessage,
  DispatchRequest,
  DispatchResponse,
  InputRequest,
  InputRequestStatus,
  Job,
  JobEvent,
  JobMessage,
  ListJobsFilters,
  UpdateAgentRequest,
  WebhookSecret,
  WorkerTokenCreated,
  WorkerTokenView,
} from './protocol/index.js';
import { metadataFilterParams } from './protocol/index.js';
import { AgentJobsError, errorFrom, request, send, type Transport } from './http.js';

export { AgentJobsError } from './http.js';
export type {
  Agent,
  ArtifactView,
  Batch,
  BulkFilter,
  DispatchRequest,
  InputRequest,
  Job,
  JobEvent,
  JobMessage,
  JobStatus,
  ListJobsFilters,
  Schedule,
} from './protocol/index.js';

/** A page of a list. */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** Options of {@link AgentJobsClient}. */
export interface ClientOptions {
  /** Server URL. @default "http://127.0.0.1:8080" */
  url?: string;
  /** An API key (ak_…). */
  apiKey: string;
  /** The fetch to send requests with (a wrapper that adds tracing, say). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A message of the delivery log. */
export type Delivery = Static<typeof DeliveryMessage>;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** An artifact's content, byte for byte, with its media type. */
export interface ArtifactContent {
  mediaType: string;
  bytes: Uint8Array;
}

/**
 * A typed client for the agentjobs API (SPEC §3–5 and §9): agents, jobs, events (as a list or a live stream),
 * webhook deliveries, keys, and interactive jobs — answers, messages, output and artifacts. Every failure is an {@link AgentJobsError} with the API's error code.
 *
 * @example
 * const client = new AgentJobsClient({ apiKey: process.env.AGENTJOBS_API_KEY! });
 * const { id } = await client.dispatch({ agent_id, brief: { objective: 'Summarise this page' } });
 * const job = await client.waitForJob(id);
 */
export class AgentJobsClient {
  private readonly transport: Transport;

  constructor(options: ClientOptions) {
    this.transport = { url: options.url ?? 'http://127.0.0.1:8080', token: options.apiKey, fetch: options.fetch };
  }

  // Agents

  /** Creates an agent; the answer carries its first worker token, shown once. */
  createAgent(input: CreateAgentRequest, options: { idempotencyKey?: string } = {}): Promise<Static<typeof AgentCreated>> {
    return request(this.transport, 'POST', '/v1/agents', { body: input, idempotencyKey: options.idempotencyKey });
  }
  listAgents(query: { limit?: number; cursor?: string } = {}): Promise<Page<Agent>> {
    return request(this.transport, 'GET', '/v1/agents', { query });
  }
  getAgent(agentId: string): Promise<Agent> {
    return request(this.transport, 'GET', `/v1/agents/${encodeURIComponent(agentId)}`);
  }
  updateAgent(agentId: string, patch: UpdateAgentRequest): Promise<Agent> {
    return request(this.transport, 'PATCH', `/v1/agents/${encodeURIComponent(agentId)}`, { body: patch });
  }
  deleteAgent(agentId: string): Promise<void> {
    return request(this.transport, 'DELETE', `/v1/agents/${encodeURIComponent(agentId)}`);
  }
  createWorkerToken(agentId: string): Promise<Static<typeof WorkerTokenCreated>> {
    return request(this.transport, 'POST', `/v1/agents/${encodeURIComponent(agentId)}/worker-tokens`, { body: {} });
  }
  listWorkerTokens(agentId: string): Promise<Page<Static<typeof WorkerTokenView>>> {
    return request(this.transport, 'GET', `/v1/agents/${encodeURIComponent(agentId)}/worker-tokens`);
  }
  revokeWorkerToken(agentId: string, tokenId: string): Promise<Static<typeof WorkerTokenView>> {
    return request(this.transport, 'DELETE', `/v1/agents/${encodeURIComponent(agentId)}/worker-tokens/${encodeURIComponent(tokenId)}`);
  }

  // Jobs

  /** Dispatches a job (the seed's request); resolves to the seed's 202 body once the job is durably stored. */
  dispatch(input: DispatchRequest, options: { idempotencyKey?: string } = {}): Promise<Static<typeof DispatchResponse>> {
    return request(this.transport, 'POST', '/v1/jobs', { body: input, idempotencyKey: options.idempotencyKey });
  }
  getJob(jobId: string): Promise<Job> {
    return request(this.transport, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
  }
  /** A page of jobs, newest first; `metadata: { customer: 'acme' }` keeps the jobs whose metadata has that value. */
  listJobs(filters: ListJobsFilters = {}): Promise<Page<Job>> {
    const { metadata, ...rest } = filters;
    return request(this.transport, 'GET', '/v1/jobs', { query: { ...rest, ...metadataFilterParams(metadata) } });
  }
  /** Cancels a job and its subtree (running ones stop when their agent confirms). */
  cancelJob(jobId: string): Promise<Job> {
    return request(this.transport, 'POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
  }
  listEvents(jobId: string, query: { after?: string; include?: 'subjobs'; limit?: number } = {}): Promise<Page<JobEvent>> {
    return request(this.transport, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}/events`, { query });
  }
  listDeliveries(jobId: string, query: { limit?: number; cursor?: string } = {}): Promise<Page<Delivery>> {
    return request(this.transport, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}/deliveries`, { query });
  }
  retryDelivery(messageId: string): Promise<{ id: string; status: string; next_attempt_at: string | null }> {
    return request(this.transport, 'POST', `/v1/deliveries/${encodeURIComponent(messageId)}/retry`);
  }

  /**
   * Streams a job's events as they happen (Server-Sent Events): the stored ones first, then live ones, with
   * no gap and no duplicate. Ends when the job (and with `include: 'subjobs'` its descendants) are finished.
   * A dropped connection is resumed after the last event seen.
   */
  async *streamEvents(jobId: string, options: { include?: 'subjobs'; after?: string; signal?: AbortSignal } = {}): AsyncGenerator<JobEvent> {
    let after = options.after;
    let failures = 0;
    for (;;) {
      let finished = false;
      try {
        const response = await send(this.transport, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}/events`, {
          query: { include: options.include },
          headers: { accept: 'text/event-stream', ...(after ? { 'last-event-id': after } : {}) },
          signal: options.signal,
        });
        if (!response.ok) throw errorFrom(response.status, await response.text());
        const queue: JobEvent[] = [];
        const parser = createParser({ onEvent: (message) => queue.push(JSON.parse(message.data) as JobEvent) });
        const decoder = new TextDecoder();
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          while (queue.length > 0) {
            const event = queue.shift()!;
            after = event.id;
            failures = 0;
            yield event;
          }
        }
        finished = true;
      } catch (error) {
        if (options.signal?.aborted || (error instanceof AgentJobsError && error.status >= 400 && error.status < 500)) throw error;
        if (++failures > 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** failures));
      }
      if (finished) return;
    }
  }

  /** Resolves with the job once it is finished (completed, failed or cancelled), following its live events. */
  async waitForJob(jobId: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    const job = await this.getJob(jobId);
    if (TERMINAL.has(job.status)) return job;
    for await (const _event of this.streamEvents(jobId, { signal: options.signal })) {
      // The stream ends when the job is finished.
    }
    return this.getJob(jobId);
  }

  // Interactive jobs

  /**
   * Answers a job's pending input request (its `waiting_for.id`); resolves to the job, which goes back to its
   * agent's queue. An approval takes `{ approved: boolean, note?: string }`.
   */
  answerInput(jobId: string, requestId: string, input: unknown): Promise<Job> {
    return request(this.transport, 'POST', `${jobPath(jobId)}/input`, { body: { request_id: requestId, input } });
  }
  /** The input requests of a job, oldest first — with `include: 'subjobs'`, of its whole subtree (the tree's inbox). */
  listInputRequests(jobId: string, query: { include?: 'subjobs'; status?: InputRequestStatus; limit?: number; cursor?: string } = {}): Promise<Page<InputRequest>> {
    return request(this.transport, 'GET', `${jobPath(jobId)}/input-requests`, { query });
  }
  /** Sends a message into a job that has not ended; its worker gets it with its next heartbeat. */
  sendMessage(jobId: string, content: string | Record<string, unknown>, options: { idempotencyKey?: string } = {}): Promise<JobMessage> {
    return request(this.transport, 'POST', `${jobPath(jobId)}/messages`, { body: { content }, idempotencyKey: options.idempotencyKey });
  }
  /** The messages sent to a job, oldest first. */
  listMessages(jobId: string, query: { limit?: number; cursor?: string } = {}): Promise<Page<JobMessage>> {
    return request(this.transport, 'GET', `${jobPath(jobId)}/messages`, { query });
  }
  /** The whole output of a job so far, by stream (`default` unless the worker named others). */
  output(jobId: string): Promise<{ streams: Record<string, string> }> {
    return request(this.transport, 'GET', `${jobPath(jobId)}/output`);
  }
  /** The artifacts of a job, without their content. */
  artifacts(jobId: string): Promise<Page<ArtifactView>> {
    return request(this.transport, 'GET', `${jobPath(jobId)}/artifacts`);
  }
  /** The content of an artifact, byte for byte, with its media type. */
  async artifactContent(jobId: string, artifactId: string): Promise<ArtifactContent> {
    const response = await send(this.transport, 'GET', `${jobPath(jobId)}/artifacts/${encodeURIComponent(artifactId)}`);
    if (!response.ok) throw errorFrom(response.status, await response.text());
    return { mediaType: response.headers.get('content-type') ?? 'application/octet-stream', bytes: new Uint8Array(await response.arrayBuffer()) };
  }

  /** A new job with the original's brief (the fields given replace its own), observers and metadata; `rerun_of` names it. */
  rerunJob(jobId: string, input: RerunRequest = {}, options: { idempotencyKey?: string } = {}): Promise<Static<typeof DispatchResponse>> {
    return request(this.transport, 'POST', `${jobPath(jobId)}/rerun`, { body: input, idempotencyKey: options.idempotencyKey });
  }
  /** Cancels the caller's queued and running jobs that match the filter (at least one key); resolves to how many. */
  bulkCancel(filter: BulkFilter): Promise<{ matched: number }> {
    return request(this.transport, 'POST', '/v1/jobs/bulk-cancel', { body: { filter } });
  }
  /** Re-runs the caller's jobs that match the filter (at least one key); resolves to how many. */
  bulkRerun(filter: BulkFilter): Promise<{ matched: number }> {
    return request(this.transport, 'POST', '/v1/jobs/bulk-rerun', { body: { filter } });
  }

  // Batches

  /** Dispatches up to 1,000 jobs in one transaction: all stored, or none (an error names the item). */
  createBatch(input: CreateBatchRequest, options: { idempotencyKey?: string } = {}): Promise<Static<typeof CreateBatchResponse>> {
    return request(this.transport, 'POST', '/v1/batches', { body: input, idempotencyKey: options.idempotencyKey });
  }
  /** A batch with its jobs counted by status, and `completed_at` once every job has ended. */
  getBatch(batchId: string): Promise<Batch> {
    return request(this.transport, 'GET', `/v1/batches/${encodeURIComponent(batchId)}`);
  }
  cancelBatch(batchId: string): Promise<Batch> {
    return request(this.transport, 'POST', `/v1/batches/${encodeURIComponent(batchId)}/cancel`);
  }

  // Schedules

  /** A cron schedule that dispatches one job per fire, in a time zone (default UTC). */
  createSchedule(input: CreateScheduleRequest, options: { idempotencyKey?: string } = {}): Promise<Schedule> {
    return request(this.transport, 'POST', '/v1/schedules', { body: input, idempotencyKey: options.idempotencyKey });
  }
  listSchedules(query: ListSchedulesQuery = {}): Promise<Page<Schedule>> {
    return request(this.transport, 'GET', '/v1/schedules', { query });
  }
  getSchedule(scheduleId: string): Promise<Schedule> {
    return request(this.transport, 'GET', `/v1/schedules/${encodeURIComponent(scheduleId)}`);
  }
  /** Changes the fields given; `{ paused: true }` pauses, `{ paused: false }` resumes from now. */
  updateSchedule(scheduleId: string, patch: UpdateScheduleRequest): Promise<Schedule> {
    return request(this.transport, 'PATCH', `/v1/schedules/${encodeURIComponent(scheduleId)}`, { body: patch });
  }
  deleteSchedule(scheduleId: string): Promise<{ id: string; deleted: true }> {
    return request(this.transport, 'DELETE', `/v1/schedules/${encodeURIComponent(scheduleId)}`);
  }
  /** One job now, whatever the cron or a pause say. */
  triggerSchedule(scheduleId: string, options: { idempotencyKey?: string } = {}): Promise<Static<typeof DispatchResponse>> {
    return request(this.transport, 'POST', `/v1/schedules/${encodeURIComponent(scheduleId)}/trigger`, { idempotencyKey: options.idempotencyKey });
  }

  // Keys and secrets

  createKey(input: { name?: string } = {}): Promise<Static<typeof ApiKeyCreated>> {
    return request(this.transport, 'POST', '/v1/keys', { body: input });
  }
  listKeys(): Promise<Page<Static<typeof ApiKeyView>>> {
    return request(this.transport, 'GET', '/v1/keys');
  }
  revokeKey(keyId: string): Promise<Static<typeof ApiKeyView>> {
    return request(this.transport, 'DELETE', `/v1/keys/${encodeURIComponent(keyId)}`);
  }
  getWebhookSecret(): Promise<Static<typeof WebhookSecret>> {
    return request(this.transport, 'GET', '/v1/webhook-secret');
  }
  rotateWebhookSecret(): Promise<Static<typeof WebhookSecret>> {
    return request(this.transport, 'POST', '/v1/webhook-secret/rotate');
  }
}

function jobPath(jobId: string): string {
  return `/v1/jobs/${encodeURIComponent(jobId)}`;
}

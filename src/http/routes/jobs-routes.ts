import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  DeliveryList,
  DispatchRequest,
  DispatchResponse,
  EventList,
  IdempotencyHeaders,
  JobIdParams,
  JobList,
  ListEventsQuery,
  ListJobsQuery,
  MessageIdParams,
  PageQuery,
  RetryResponse,
  RerunRequest,
  BulkRequest,
  BulkResponse,
} from '@agentjobs/sdk/protocol';
import { rerunJob } from '../../jobs/rerun-job.js';
import { bulkCancel, bulkRerun } from '../../jobs/bulk-actions.js';
import type { JobsContext } from '../../jobs/context.js';
import { dispatchJob } from '../../jobs/dispatch-job.js';
import { getJobJson } from '../../jobs/get-job.js';
import { listJobsJson } from '../../jobs/list-jobs.js';
import { cancelJob } from '../../jobs/cancel-job.js';
import { listDeliveriesJson, retryDelivery } from '../../jobs/deliveries.js';
import { listEventsJson } from '../../jobs/job-events.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';
import { streamEventsOverSse, wantsEventStream } from '../sse.js';

const JobRef = { $ref: 'Job#' };

/** The client routes of jobs (API key): dispatch, read, list, cancel, events, deliveries. */
export function jobsRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  jobRoutes(fastify, ctx);
  jobHistoryRoutes(fastify, ctx);
}

/** Dispatch, list, read and cancel jobs. */
function jobRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = { auth: 'api_key' as const };

  app.post(
    '/v1/jobs',
    {
      config: auth,
      schema: {
        tags: ['jobs'],
        summary: 'Dispatch a job',
        description:
          'Dispatch a job to a specific agent with a structured brief. Jobs run asynchronously; a 202 means the job is durably stored. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        body: DispatchRequest,
        response: { 202: DispatchResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendStored(reply, await dispatchJob(ctx, principalOf(request), request.body, idempotencyKeyOf(request)), jobPath),
  );

  app.get(
    '/v1/jobs',
    {
      config: auth,
      schema: {
        tags: ['jobs'],
        summary: 'List jobs',
        description: 'Newest first. Filters: status, agent_id, parent_job_id, root_job_id, batch_id, schedule_id, metadata[key]=value, created_after, created_before.',
        querystring: ListJobsQuery,
        response: { 200: JobList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await listJobsJson(ctx, principalOf(request), request.query as ListJobsQuery)),
  );

  app.get(
    '/v1/jobs/:job_id',
    {
      config: auth,
      schema: {
        tags: ['jobs'],
        summary: 'Get a job',
        description: 'The current status, result (when complete), and the whole subjob tree.',
        params: JobIdParams,
        response: { 200: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await getJobJson(ctx, principalOf(request), request.params.job_id)),
  );

  app.post(
    '/v1/jobs/:job_id/cancel',
    {
      config: auth,
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job and its subtree',
        description:
          'A queued job is cancelled at once. A running job keeps running with cancel_requested_at until its agent confirms or its lease ends. 409 job_already_finished on completed or failed jobs.',
        params: JobIdParams,
        response: { 202: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 202, await cancelJob(ctx, principalOf(request), request.params.job_id)),
  );
}

/** A job's events and webhook deliveries. */
function jobHistoryRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = { auth: 'api_key' as const };

  app.post(
    '/v1/jobs/:job_id/rerun',
    {
      config: auth,
      schema: {
        tags: ['jobs'],
        summary: 'Re-run a job',
        description:
          "A new job with the original's brief (the brief fields given replace its own), observers and metadata; rerun_of names the original. 202 as a dispatch. Honours Idempotency-Key.",
        headers: IdempotencyHeaders,
        params: JobIdParams,
        body: Type.Optional(RerunRequest),
        response: { 202: DispatchResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await rerunJob(ctx, principalOf(request), request.params.job_id, request.body ?? {}, idempotencyKeyOf(request)), jobPath),
  );

  for (const [action, run, summary] of [
    ['cancel', bulkCancel, "Cancel the caller's queued and running jobs that match a filter"],
    ['rerun', bulkRerun, "Re-run the caller's jobs that match a filter"],
  ] as const) {
    app.post(
      `/v1/jobs/bulk-${action}`,
      {
        config: auth,
        schema: {
          tags: ['jobs'],
          summary,
          description: 'Every key of the filter must match; an empty filter is refused. Only the caller’s tenant’s jobs move. 202 with how many did.',
          body: BulkRequest,
          response: { 202: BulkResponse, ...ERROR_RESPONSES },
        },
      },
      async (request, reply) => sendJson(reply, 202, await run(ctx, principalOf(request), request.body.filter)),
    );
  }

  app.get(
    '/v1/jobs/:job_id/events',
    {
      config: auth,
      schema: {
        tags: ['events'],
        summary: "A job's events, as a list or a live stream",
        description:
          'Oldest first. ?after=<evt id> for the ones after an event; ?include=subjobs adds the descendants. With Accept: text/event-stream: Server-Sent Events — the stored events, then live ones, resuming after Last-Event-ID, closing when the job (and its descendants) are finished.',
        params: JobIdParams,
        querystring: ListEventsQuery,
        response: { 200: EventList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (wantsEventStream(request)) return streamEventsOverSse(ctx, principal, request, reply, request.params.job_id, request.query);
      return sendJson(reply, 200, await listEventsJson(ctx, principal, request.params.job_id, request.query));
    },
  );

  app.get(
    '/v1/jobs/:job_id/deliveries',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook messages of a job, with every attempt',
        params: JobIdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: DeliveryList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await listDeliveriesJson(ctx, principalOf(request), request.params.job_id, request.query)),
  );

  app.post(
    '/v1/deliveries/:msg_id/retry',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Send a webhook message again now',
        params: MessageIdParams,
        response: { 202: RetryResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 202, await retryDelivery(ctx, principalOf(request), request.params.msg_id)),
  );
}

/** The path of a job, for `Location`. */
export function jobPath(id: string): string {
  return `/v1/jobs/${id}`;
}

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AgentIdParams,
  CancelSubjobRequest,
  ClaimRequest,
  ClaimResponse,
  CompleteRequest,
  DispatchResponse,
  FailRequest,
  HeartbeatRequest,
  HeartbeatResponse,
  IdempotencyHeaders,
  JobIdParams,
  SubjobParams,
  SubjobRequest,
  ToolCallRequest,
  ToolCallPending,
  ToolCallResponse,
  WaitSubjobRequest,
} from '@agentjobs/sdk/protocol';
import type { JobsContext } from '../../jobs/context.js';
import { claimJobs } from '../../jobs/claim-jobs.js';
import { completeJob } from '../../jobs/complete-job.js';
import { dispatchSubjob } from '../../jobs/dispatch-job.js';
import { failJob } from '../../jobs/fail-job.js';
import { heartbeatJob } from '../../jobs/heartbeat-job.js';
import { recordToolCall } from '../../jobs/record-tool-call.js';
import { cancelSubjob, waitForSubjob } from '../../jobs/subjob-handles.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';
import { jobPath } from './jobs-routes.js';

const JobRef = { $ref: 'Job#' };

/** An AbortSignal that fires when the client goes away before the response is sent (ends a long poll). */
function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The worker protocol (SPEC §6): routes an agent's workers call with a worker token of that agent. */
export function workerRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  leaseRoutes(fastify, ctx);
  subjobRoutes(fastify, ctx);
}

/** A job's lease: claim, heartbeat, complete, fail. */
function leaseRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = { auth: 'worker' as const };

  app.post(
    '/v1/agents/:agent_id/claim',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Lease queued jobs (long-poll)',
        description:
          'Leases up to max_jobs queued jobs, oldest first, within the agent’s max_concurrency. With wait_seconds, waits until a job is queued; a newly dispatched job reaches a waiting worker at once.',
        params: AgentIdParams,
        body: ClaimRequest,
        response: { 200: ClaimResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendJson(reply, 200, await claimJobs(ctx, principalOf(request), request.params.agent_id, request.body ?? {}, disconnectSignal(reply))),
  );

  app.post(
    '/v1/jobs/:job_id/heartbeat',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Extend the lease; report progress and tokens',
        description: 'Answers cancel_requested: true when the job should stop. 409 lease_lost when the lease is no longer held.',
        params: JobIdParams,
        body: HeartbeatRequest,
        response: { 200: HeartbeatResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, JSON.stringify(await heartbeatJob(ctx, principalOf(request), request.params.job_id, request.body))),
  );

  app.post(
    '/v1/jobs/:job_id/complete',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Complete a job with its result',
        description: '422 output_schema_mismatch (job stays running) when the result does not match brief.output_schema.',
        params: JobIdParams,
        body: CompleteRequest,
        response: { 200: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await completeJob(ctx, principalOf(request), request.params.job_id, request.body)),
  );

  app.post(
    '/v1/jobs/:job_id/fail',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Fail a job (or confirm its cancellation)',
        params: JobIdParams,
        body: FailRequest,
        response: { 200: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await failJob(ctx, principalOf(request), request.params.job_id, request.body)),
  );
}

/** What a running job asks for: subjobs, and permission for a tool call. */
function subjobRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = { auth: 'worker' as const };

  app.post(
    '/v1/jobs/:job_id/subjobs',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Dispatch a subjob',
        description: 'Authenticated by the parent’s lease. Honours Idempotency-Key (scoped to the parent job), max_subjobs and max_depth.',
        params: JobIdParams,
        headers: IdempotencyHeaders,
        body: SubjobRequest,
        response: { 202: DispatchResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendStored(reply, await dispatchSubjob(ctx, principalOf(request), request.params.job_id, request.body, idempotencyKeyOf(request)), jobPath),
  );

  app.post(
    '/v1/jobs/:job_id/subjobs/:child_id/wait',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Wait for a subjob to finish (long-poll)',
        params: SubjobParams,
        body: WaitSubjobRequest,
        response: { 200: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendJson(
        reply,
        200,
        await waitForSubjob(
          ctx,
          principalOf(request),
          request.params.job_id,
          request.params.child_id,
          request.body.lease_token,
          request.body.wait_seconds ?? 25,
          disconnectSignal(reply),
        ),
      ),
  );

  app.post(
    '/v1/jobs/:job_id/subjobs/:child_id/cancel',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Cancel a subjob',
        params: SubjobParams,
        body: CancelSubjobRequest,
        response: { 202: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendJson(reply, 202, await cancelSubjob(ctx, principalOf(request), request.params.job_id, request.params.child_id, request.body.lease_token)),
  );

  app.post(
    '/v1/jobs/:job_id/tool-calls',
    {
      config: auth,
      schema: {
        tags: ['worker protocol'],
        summary: 'Report a tool call before making it',
        description:
          '403 tool_not_allowed outside brief.constraints.allowed_tools (or inside denied_tools). A tool in approval_required_tools is answered 202 pending_approval: the job waits for a person and the lease ends; report the call again with approval_request_id once resumed (403 tool_not_approved when denied). Every call is logged as an event.',
        params: JobIdParams,
        body: ToolCallRequest,
        response: { 200: ToolCallResponse, 202: ToolCallPending, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const outcome = await recordToolCall(ctx, principalOf(request), request.params.job_id, request.body);
      return sendJson(reply, outcome.status, outcome.body);
    },
  );
}

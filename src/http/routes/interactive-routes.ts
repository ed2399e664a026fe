import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AnswerInputRequest,
  ArtifactList,
  ArtifactParams,
  ArtifactView,
  CreateArtifactRequest,
  CreateInputRequest,
  IdempotencyHeaders,
  InputRequestCreated,
  InputRequestList,
  JobIdParams,
  JobMessage,
  JobOutput,
  ListInputRequestsQuery,
  MessageList,
  OutputAccepted,
  OutputRequest,
  PageQuery,
  SendMessageRequest,
} from '@agentjobs/sdk/protocol';
import { artifactBodyLimit } from '../../domain/limits.js';
import type { JobsContext } from '../../jobs/context.js';
import { answerInput } from '../../jobs/answer-input.js';
import { createArtifact, getArtifactContent, listArtifactsJson } from '../../jobs/job-artifacts.js';
import { listMessagesJson, sendMessage } from '../../jobs/job-messages.js';
import { getOutputJson, recordOutput } from '../../jobs/job-output.js';
import { listInputRequestsJson } from '../../jobs/list-input-requests.js';
import { requestInput } from '../../jobs/request-input.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';

const JobRef = { $ref: 'Job#' };

/**
 * Interactive jobs (SPEC §9): questions and answers, messages into a job, output and artifacts. Clients use an
 * API key; the worker holding a job asks, streams output and stores artifacts with its worker token and lease.
 */
export function interactiveRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  questionRoutes(fastify, ctx);
  outputRoutes(fastify, ctx);
}

/** Questions and answers, and messages into a job. */
function questionRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const client = { auth: 'api_key' as const };
  const worker = { auth: 'worker' as const };

  app.post(
    '/v1/jobs/:job_id/input-requests',
    {
      config: worker,
      schema: {
        tags: ['worker protocol'],
        summary: 'Ask a person (the lease ends with the request)',
        description:
          'The job stays running with waiting_for set; the lease token is spent and the agent’s concurrency slot is free. After the answer, a claim hands the job back with every request and its answer in `inputs`, with the same attempt. Repeating the same request with the same lease token answers the same request.',
        params: JobIdParams,
        body: CreateInputRequest,
        response: { 201: InputRequestCreated, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 201, await requestInput(ctx, principalOf(request), request.params.job_id, request.body)),
  );

  app.post(
    '/v1/jobs/:job_id/input',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'Answer the pending input request of a job',
        description:
          'input is checked against the request’s input_schema (422 input_schema_mismatch naming the path). The same answer twice is 200 both times; a request that is not pending is 409 no_pending_input.',
        params: JobIdParams,
        body: AnswerInputRequest,
        response: { 200: JobRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await answerInput(ctx, principalOf(request), request.params.job_id, request.body)),
  );

  app.get(
    '/v1/jobs/:job_id/input-requests',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'The input requests of a job or of its subtree (an inbox)',
        description: 'Oldest first. ?include=subjobs adds the descendants’ requests; ?status=pending leaves the open ones.',
        params: JobIdParams,
        querystring: ListInputRequestsQuery,
        response: { 200: InputRequestList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await listInputRequestsJson(ctx, principalOf(request), request.params.job_id, request.query)),
  );

  app.post(
    '/v1/jobs/:job_id/messages',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'Send a message into a job',
        description:
          'Workers get it in their next heartbeat (and every claim carries all of a job’s messages). A message does not answer an input request. 409 job_already_finished on a finished job. Honours Idempotency-Key.',
        params: JobIdParams,
        headers: IdempotencyHeaders,
        body: SendMessageRequest,
        response: { 201: JobMessage, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await sendMessage(ctx, principalOf(request), request.params.job_id, request.body, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/jobs/:job_id/messages',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'The messages sent to a job, oldest first',
        params: JobIdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: MessageList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await listMessagesJson(ctx, principalOf(request), request.params.job_id, request.query)),
  );

}

/** Output and artifacts: the worker writes them, clients read them. */
function outputRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const client = { auth: 'api_key' as const };
  const worker = { auth: 'worker' as const };

  app.post(
    '/v1/jobs/:job_id/output',
    {
      config: worker,
      schema: {
        tags: ['worker protocol'],
        summary: 'Append output text',
        description: 'Each delta becomes a job.output event (live on the event stream, never sent to webhooks).',
        params: JobIdParams,
        body: OutputRequest,
        response: { 200: OutputAccepted, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await recordOutput(ctx, principalOf(request), request.params.job_id, request.body)),
  );

  app.get(
    '/v1/jobs/:job_id/output',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'The whole output of a job so far, per stream',
        params: JobIdParams,
        response: { 200: JobOutput, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await getOutputJson(ctx, principalOf(request), request.params.job_id)),
  );

  app.post(
    '/v1/jobs/:job_id/artifacts',
    {
      config: worker,
      // Room for the largest artifact sent as base64.
      bodyLimit: artifactBodyLimit(ctx.limits),
      schema: {
        tags: ['worker protocol'],
        summary: 'Store an artifact of the job',
        description:
          'Exactly one of text, data (JSON) or base64. 413 over the artifact size limit (default 10 MiB), 409 artifact_limit_reached past the number per job (default 100). Honours Idempotency-Key (scoped to the job).',
        params: JobIdParams,
        headers: IdempotencyHeaders,
        body: CreateArtifactRequest,
        response: { 201: ArtifactView, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await createArtifact(ctx, principalOf(request), request.params.job_id, request.body, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/jobs/:job_id/artifacts',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'The artifacts of a job, without content',
        params: JobIdParams,
        response: { 200: ArtifactList, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await listArtifactsJson(ctx, principalOf(request), request.params.job_id)),
  );

  app.get(
    '/v1/jobs/:job_id/artifacts/:artifact_id',
    {
      config: client,
      schema: {
        tags: ['interactive'],
        summary: 'The content of an artifact, byte for byte, with its media type',
        params: ArtifactParams,
        response: {
          200: { description: 'The content, with the artifact’s media type as Content-Type.', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const artifact = await getArtifactContent(ctx, principalOf(request), request.params.job_id, request.params.artifact_id);
      return (
        reply
          .code(200)
          .type(artifact.mediaType)
          .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(artifact.name)}`)
          // Content from agents is never run on this origin: no sniffing, and a sandbox should a browser render it.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', 'sandbox')
          .send(artifact.content)
      );
    },
  );
}

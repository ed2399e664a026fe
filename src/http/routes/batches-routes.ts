import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BatchIdParams, CreateBatchRequest, CreateBatchResponse, IdempotencyHeaders } from '@agentjobs/sdk/protocol';
import { cancelBatch, getBatchJson } from '../../jobs/batches.js';
import type { JobsContext } from '../../jobs/context.js';
import { dispatchBatch } from '../../jobs/dispatch-batch.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';

const BatchRef = { $ref: 'Batch#' };

/** Batches (SPEC §11): up to 1,000 jobs in one request and one transaction. */
export function batchesRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'api_key' as const };
  const tags = ['batches'];

  app.post(
    '/v1/batches',
    {
      config,
      schema: {
        tags,
        summary: 'Dispatch a batch of jobs',
        description:
          'Up to 1,000 jobs, stored in one transaction: all or none. One bad item is a 400 naming it (jobs[3].brief.objective). Batch observers get one batch.completed once every job has ended. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        body: CreateBatchRequest,
        response: { 202: CreateBatchResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await dispatchBatch(ctx, principalOf(request), request.body, idempotencyKeyOf(request)), (id) => `/v1/batches/${id}`),
  );

  app.get(
    '/v1/batches/:batch_id',
    {
      config,
      schema: {
        tags,
        summary: 'Get a batch',
        description: 'Its jobs counted by status; completed_at once every job has ended. The jobs: GET /v1/jobs?batch_id=.',
        params: BatchIdParams,
        response: { 200: BatchRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await getBatchJson(ctx, principalOf(request), request.params.batch_id)),
  );

  app.post(
    '/v1/batches/:batch_id/cancel',
    {
      config,
      schema: {
        tags,
        summary: 'Cancel every unfinished job of a batch',
        description: 'As a cancel of each job: queued ones at once, running ones once their agent confirms (or their lease ends).',
        params: BatchIdParams,
        response: { 202: BatchRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 202, await cancelBatch(ctx, principalOf(request), request.params.batch_id)),
  );
}

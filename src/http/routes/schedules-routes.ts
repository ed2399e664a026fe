import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CreateScheduleRequest,
  DeletedSchedule,
  DispatchResponse,
  IdempotencyHeaders,
  ListSchedulesQuery,
  ScheduleIdParams,
  ScheduleList,
  UpdateScheduleRequest,
} from '@agentjobs/sdk/protocol';
import type { JobsContext } from '../../jobs/context.js';
import { triggerSchedule } from '../../jobs/fire-schedules.js';
import { createSchedule, getScheduleJson, listSchedulesJson, patchSchedule, removeSchedule } from '../../jobs/schedules.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';
import { jobPath } from './jobs-routes.js';

const ScheduleRef = { $ref: 'Schedule#' };

/** Schedules (SPEC §11): cron fires that dispatch one job each. */
export function schedulesRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'api_key' as const };
  const tags = ['schedules'];

  app.post(
    '/v1/schedules',
    {
      config,
      schema: {
        tags,
        summary: 'Create a schedule',
        description:
          'Dispatches one job per fire of the cron pattern, read in the time zone (default UTC), across daylight-saving changes. Exactly one job per fire, however many servers run; fires missed while none ran give one catch-up run. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        body: CreateScheduleRequest,
        response: { 201: ScheduleRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendStored(reply, await createSchedule(ctx, principalOf(request), request.body, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/schedules',
    { config, schema: { tags, summary: 'List schedules', querystring: ListSchedulesQuery, response: { 200: ScheduleList, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await listSchedulesJson(ctx, principalOf(request), request.query)),
  );

  app.get(
    '/v1/schedules/:schedule_id',
    { config, schema: { tags, summary: 'Get a schedule', params: ScheduleIdParams, response: { 200: ScheduleRef, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await getScheduleJson(ctx, principalOf(request), request.params.schedule_id)),
  );

  app.patch(
    '/v1/schedules/:schedule_id',
    {
      config,
      schema: {
        tags,
        summary: 'Change, pause or resume a schedule',
        description: 'A new cron or time zone, or a resume, takes effect from now: fires missed while paused are not run.',
        params: ScheduleIdParams,
        body: UpdateScheduleRequest,
        response: { 200: ScheduleRef, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await patchSchedule(ctx, principalOf(request), request.params.schedule_id, request.body)),
  );

  app.delete(
    '/v1/schedules/:schedule_id',
    {
      config,
      schema: { tags, summary: 'Delete a schedule (its jobs stay)', params: ScheduleIdParams, response: { 200: DeletedSchedule, ...ERROR_RESPONSES } },
    },
    async (request, reply) => sendJson(reply, 200, await removeSchedule(ctx, principalOf(request), request.params.schedule_id)),
  );

  app.post(
    '/v1/schedules/:schedule_id/trigger',
    {
      config,
      schema: {
        tags,
        summary: 'Run a schedule once now',
        description: 'Dispatches one job now, whatever the cron, the overlap policy or a pause say. 202 as a dispatch. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        params: ScheduleIdParams,
        response: { 202: DispatchResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await triggerSchedule(ctx, principalOf(request), request.params.schedule_id, idempotencyKeyOf(request)), jobPath),
  );
}

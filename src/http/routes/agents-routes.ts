import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  AgentCreated,
  AgentIdParams,
  AgentList,
  CreateAgentRequest,
  IdempotencyHeaders,
  PageQuery,
  UpdateAgentRequest,
  WorkerTokenCreated,
  WorkerTokenList,
  WorkerTokenParams,
  WorkerTokenView,
} from '@agentjobs/sdk/protocol';
import type { JobsContext } from '../../jobs/context.js';
import {
  createAgent,
  createWorkerToken,
  deleteAgent,
  getAgentJson,
  listAgentsJson,
  listWorkerTokensJson,
  revokeWorkerTokenJson,
  updateAgentJson,
} from '../../jobs/agents.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';

const AgentRef = { $ref: 'Agent#' };

/** Agents (SPEC §3): create, list, get with live counts, patch, delete, worker tokens. */
export function agentsRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  agentRoutes(fastify, ctx);
  workerTokenRoutes(fastify, ctx);
}

/** Agents: create, list, read, change, delete. */
function agentRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'api_key' as const };
  const tags = ['agents'];

  app.post(
    '/v1/agents',
    {
      config,
      schema: {
        tags,
        summary: 'Create an agent',
        description: 'Answers the agent and — once only — its worker_token. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        body: CreateAgentRequest,
        response: { 201: AgentCreated, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendStored(reply, await createAgent(ctx, principalOf(request), request.body, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/agents',
    { config, schema: { tags, summary: 'List agents', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: AgentList, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await listAgentsJson(ctx, principalOf(request), request.query)),
  );

  app.get(
    '/v1/agents/:agent_id',
    { config, schema: { tags, summary: 'Get an agent with live counts', params: AgentIdParams, response: { 200: AgentRef, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await getAgentJson(ctx, principalOf(request), request.params.agent_id)),
  );

  app.patch(
    '/v1/agents/:agent_id',
    {
      config,
      schema: { tags, summary: 'Update an agent', params: AgentIdParams, body: UpdateAgentRequest, response: { 200: AgentRef, ...ERROR_RESPONSES } },
    },
    async (request, reply) => sendJson(reply, 200, await updateAgentJson(ctx, principalOf(request), request.params.agent_id, request.body)),
  );

  app.delete(
    '/v1/agents/:agent_id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete an agent',
        description: '409 agent_has_running_jobs while it has running jobs. Its queued jobs fail with agent_deleted.',
        params: AgentIdParams,
        response: { 204: Type.Null(), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      await deleteAgent(ctx, principalOf(request), request.params.agent_id);
      return reply.code(204).send(null as never);
    },
  );
}

/** An agent's worker tokens. */
function workerTokenRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'api_key' as const };
  const tags = ['agents'];

  app.post(
    '/v1/agents/:agent_id/worker-tokens',
    {
      config,
      schema: {
        tags,
        summary: 'Issue another worker token',
        description: 'Older tokens stay valid until revoked. Honours Idempotency-Key.',
        params: AgentIdParams,
        headers: IdempotencyHeaders,
        response: { 201: WorkerTokenCreated, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) =>
      sendStored(reply, await createWorkerToken(ctx, principalOf(request), request.params.agent_id, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/agents/:agent_id/worker-tokens',
    { config, schema: { tags, summary: "List an agent's worker tokens", params: AgentIdParams, response: { 200: WorkerTokenList, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await listWorkerTokensJson(ctx, principalOf(request), request.params.agent_id)),
  );

  app.delete(
    '/v1/agents/:agent_id/worker-tokens/:token_id',
    {
      config,
      schema: { tags, summary: 'Revoke a worker token', params: WorkerTokenParams, response: { 200: WorkerTokenView, ...ERROR_RESPONSES } },
    },
    async (request, reply) =>
      sendJson(reply, 200, await revokeWorkerTokenJson(ctx, principalOf(request), request.params.agent_id, request.params.token_id)),
  );
}

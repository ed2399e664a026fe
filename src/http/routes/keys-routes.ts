import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiKeyCreated, ApiKeyList, ApiKeyView, CreateKeyRequest, IdempotencyHeaders, KeyIdParams, PageQuery, WebhookSecret } from '@agentjobs/sdk/protocol';
import type { JobsContext } from '../../jobs/context.js';
import {
  createApiKey,
  getWebhookSecret,
  listApiKeysJson,
  revokeApiKeyJson,
  rotateWebhookSecret,
} from '../../jobs/tenants.js';
import { idempotencyKeyOf, principalOf } from '../auth.js';
import { ERROR_RESPONSES, sendJson, sendStored } from '../reply.js';

/** API keys and the tenant's webhook signing secret (SPEC §2, §5.1). */
export function keysRoutes(fastify: FastifyInstance, ctx: JobsContext): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = { auth: 'api_key' as const };

  app.post(
    '/v1/keys',
    {
      config,
      schema: {
        tags: ['keys'],
        summary: "Create another API key for the caller's tenant",
        description: 'The key is shown once. Honours Idempotency-Key.',
        headers: IdempotencyHeaders,
        body: Type.Optional(CreateKeyRequest),
        response: { 201: ApiKeyCreated, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendStored(reply, await createApiKey(ctx, principalOf(request), request.body ?? {}, idempotencyKeyOf(request))),
  );

  app.get(
    '/v1/keys',
    { config, schema: { tags: ['keys'], summary: 'List API keys', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: ApiKeyList, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await listApiKeysJson(ctx, principalOf(request), request.query)),
  );

  app.delete(
    '/v1/keys/:key_id',
    { config, schema: { tags: ['keys'], summary: 'Revoke an API key (at once)', params: KeyIdParams, response: { 200: ApiKeyView, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await revokeApiKeyJson(ctx, principalOf(request), request.params.key_id)),
  );

  app.get(
    '/v1/webhook-secret',
    { config, schema: { tags: ['webhooks'], summary: "The tenant's webhook signing secret", response: { 200: WebhookSecret, ...ERROR_RESPONSES } } },
    async (request, reply) => sendJson(reply, 200, await getWebhookSecret(ctx, principalOf(request))),
  );

  app.post(
    '/v1/webhook-secret/rotate',
    {
      config,
      schema: {
        tags: ['webhooks'],
        summary: 'Rotate the signing secret',
        description: 'For 24 hours webhooks carry two signatures: one with the new secret, one with the old.',
        response: { 200: WebhookSecret, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => sendJson(reply, 200, await rotateWebhookSecret(ctx, principalOf(request))),
  );
}

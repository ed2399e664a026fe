import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import { ErrorResponse, Job, SubjobNode, JobEvent, DeliveryMessage, Agent, InputRequest, Schedule, Batch } from '@agentjobs/sdk/protocol';
import type { JobsContext } from '../jobs/context.js';
import { createAjv } from '../jobs/schema-validators.js';
import { sendError, errorHandler } from './error-handler.js';
import { registerAuth } from './auth.js';
import { registerJsonBody } from './json-body.js';
import { registerQueryString } from './query-string.js';
import { documentDeepObjects, documentedSchema } from './openapi.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { workerRoutes } from './routes/worker-routes.js';
import { interactiveRoutes } from './routes/interactive-routes.js';
import { agentsRoutes } from './routes/agents-routes.js';
import { keysRoutes } from './routes/keys-routes.js';
import { systemRoutes } from './routes/system-routes.js';
import { schedulesRoutes } from './routes/schedules-routes.js';
import { batchesRoutes } from './routes/batches-routes.js';

/** The schemas that route schemas refer to by `$ref` (`Job#`, …). */
const SHARED_SCHEMAS = [InputRequest, SubjobNode, Job, JobEvent, DeliveryMessage, Agent, Schedule, Batch, ErrorResponse];

/** What the HTTP layer needs beyond the use cases. */
export interface HttpOptions {
  logger: Logger;
  /** Extra routes (dashboard, metrics) registered by the composition root. */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
  version: string;
}

/**
 * Builds the Fastify application: one JSON parser, one auth hook, one error handler, the routes, and the
 * OpenAPI 3.1 document generated from the very schemas that validate the requests.
 */
export async function buildApp(ctx: JobsContext, options: HttpOptions): Promise<FastifyInstance> {
  // Typed as the default instance: our logger is pino's, which Fastify's generics otherwise carry everywhere.
  const app = Fastify({
    loggerInstance: options.logger,
    // One structured line per response (below), instead of Fastify's two per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: ctx.limits.bodyBytes,
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    // Slow-loris defence: a client must send its headers within 15 s and its whole request within 30 s.
    // Long polls and event streams are responses, which these limits do not cover.
    requestTimeout: 30_000,
    http: { headersTimeout: 15_000 } as never,
    // Long ids must reach the handler and get the same 404 as any unknown id (not a 414 from the router).
    routerOptions: { maxParamLength: 16_384 },
  }) as unknown as FastifyInstance;

  useProtocolValidators(app);
  // Responses are rendered by the use cases; the response schemas document them in OpenAPI.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'agentjobs',
        version: options.version,
        description: 'Dispatch jobs to AI agents: structured briefs, asynchronous runs, signed webhooks, observable job trees.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key (ak_…) or worker token (awt_…)' } },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transform: documentedSchema,
    transformObject: documentDeepObjects,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  // One structured line per response at debug level; the hook exists only when that level is on.
  if (options.logger.isLevelEnabled('debug')) {
    app.addHook('onResponse', async (request, reply) => {
      request.log.debug(
        { method: request.method, url: request.routeOptions.url ?? request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    });
  }
  registerJsonBody(app, ctx.limits.jsonDepth);
  registerQueryString(app);
  registerAuth(app, ctx.store);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'not_found', `There is no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}; the API is described at /docs.`),
  );

  // Plugins first: their onRoute hooks (metrics) then see the routes below.
  for (const plugin of options.plugins ?? []) await plugin(app);
  systemRoutes(app, ctx.store, ctx.shutdown);
  jobsRoutes(app, ctx);
  workerRoutes(app, ctx);
  interactiveRoutes(app, ctx);
  agentsRoutes(app, ctx);
  keysRoutes(app, ctx);
  schedulesRoutes(app, ctx);
  batchesRoutes(app, ctx);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/**
 * Bodies are validated strictly: no type coercion, no silent removal of unknown fields (they are errors).
 * Query strings and path parameters arrive as text, so there numbers and booleans are coerced.
 * Verbose errors carry the schema and value of a failed union, so its message can follow the branch that a
 * value's `type` chose (see chosenBranch).
 */
function useProtocolValidators(app: FastifyInstance): void {
  const bodyAjv = createAjv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false, verbose: true });
  const textAjv = createAjv({ allErrors: false, coerceTypes: true, removeAdditional: false, useDefaults: true, strict: false, verbose: true });
  for (const schema of SHARED_SCHEMAS) {
    bodyAjv.addSchema(schema);
    textAjv.addSchema(schema);
  }
  // Header schemas are for the OpenAPI document: each header is checked where it is read (Authorization by the
  // auth hook, Idempotency-Key by idempotencyKeyOf). Validating them here would copy every request's headers —
  // a tenth of a dispatch's CPU, measured.
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'headers' ? () => true : (httpPart === 'body' ? bodyAjv : textAjv).compile(schema),
  );
}

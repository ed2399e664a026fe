import type { FastifyInstance } from 'fastify';
import { Health } from '@agentjobs/sdk/protocol';
import type { Store } from '../../store/store.js';

/** Liveness and readiness probes. */
export function systemRoutes(app: FastifyInstance, store: Store, shutdown: AbortSignal): void {
  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: Health } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { tags: ['system'], summary: 'Readiness: the database answers and the server is not shutting down', response: { 200: Health, 503: Health } } },
    async (_request, reply) => {
      if (shutdown.aborted) return reply.code(503).send({ status: 'shutting_down' });
      try {
        await store.now();
        return { status: 'ready' };
      } catch {
        return reply.code(503).send({ status: 'database_unavailable' });
      }
    },
  );
}

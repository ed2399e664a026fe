import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JobsError } from '../domain/jobs-error.js';
import { addRouteHook } from './route-hooks.js';

/**
 * A query parameter given more than once (`?status=completed&status=failed`) is refused by name, on every route
 * that takes a query string: the parser makes such a parameter an array, which validation would report as a
 * value of the wrong type. Each parameter has one value (filters are not lists).
 */
export function registerQueryString(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!route.schema?.querystring) return;
    const once = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
      const query = request.query as Record<string, unknown>;
      for (const key in query) {
        if (Array.isArray(query[key])) {
          return done(new JobsError('invalid_request', `query parameter ${key.slice(0, 100)} was given more than once; give it once.`));
        }
      }
      done();
    };
    addRouteHook(route, 'preValidation', once);
  });
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { JobsError } from '../domain/jobs-error.js';
import { jsonDepth } from '../domain/json.js';
import { EmptyBody } from '@agentjobs/sdk/protocol';
import { addRouteHook } from './route-hooks.js';

/** Methods whose requests may carry a body (Fastify parses one for each of them). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'QUERY']);

/**
 * The JSON body parser: UTF-8 only, no compressed bodies, nesting checked before parsing (so a 100,000-deep
 * document is refused before any recursive code meets it), `__proto__` and `constructor.prototype` keys refused
 * (prototype pollution). A route of a method with a body that declares none takes {@link EmptyBody}: no body or
 * `{}`, and any field in it is an error, as in every other body.
 */
export function registerJsonBody(app: FastifyInstance, maxDepth: number): void {
  // A POST sent with no body at all (no Content-Type) is an empty object: `curl -X POST …/cancel` just works,
  // and a missing required field is reported by name. A route that takes no body also takes an empty body sent
  // with a JSON Content-Type. Only routes that may get a body pay for this hook.
  app.addHook('onRoute', (route) => {
    if (!route.schema?.body) {
      if (![route.method].flat().some((method) => BODY_METHODS.has(method))) return;
      route.schema = { ...route.schema, body: EmptyBody };
    }
    const takesNone = route.schema.body === EmptyBody;
    const emptyBody = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
      if (request.body === undefined && (takesNone || request.headers['content-type'] === undefined)) request.body = {};
      done();
    };
    addRouteHook(route, 'preValidation', emptyBody);
  });
  // JSON only: Fastify's default text/plain parser would let a text body reach validation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json(\s*;.*)?$/i, { parseAs: 'string' }, (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding && encoding !== 'identity') {
      return done(new JobsError('unsupported_media_type', `Content-Encoding '${encoding}' is not accepted: send the JSON body uncompressed.`), undefined);
    }
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      return done(new JobsError('unsupported_media_type', `charset=${charset} is not accepted: send the JSON body as UTF-8.`), undefined);
    }
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    if (jsonDepth(text) > maxDepth) {
      return done(new JobsError('invalid_request', `The request body nests arrays and objects deeper than ${maxDepth} levels; flatten it.`), undefined);
    }
    try {
      done(null, sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (error) {
      const message = (error as Error).message;
      if (/prototype/i.test(message)) {
        return done(new JobsError('invalid_request', 'The request body contains a forbidden key (__proto__ or constructor.prototype).'), undefined);
      }
      done(new JobsError('invalid_json', `The request body is not valid JSON: ${message}`), undefined);
    }
  });
}

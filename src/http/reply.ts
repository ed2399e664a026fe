import type { FastifyReply } from 'fastify';
import type { StoredResponse } from '../jobs/idempotency.js';

/** Sends JSON text that is already serialised (job objects are rendered once, by the use cases). */
export function sendJson(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/**
 * Sends the stored response of a creating request, marking replays of an `Idempotency-Key`. With `location`,
 * a 202 names what it created (`location(id)` is its path).
 */
export function sendStored(reply: FastifyReply, response: StoredResponse, location?: (id: string) => string): FastifyReply {
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  if (location && response.status === 202 && response.createdId) reply.header('location', location(response.createdId));
  return sendJson(reply, response.status, response.body);
}

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  '4xx': { $ref: 'ErrorResponse#' },
  '5xx': { $ref: 'ErrorResponse#' },
} as const;

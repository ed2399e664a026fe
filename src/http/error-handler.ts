import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ERROR_STATUS, type ErrorCode } from '@agentjobs/sdk/protocol';
import { JobsError } from '../domain/jobs-error.js';
import { chosenBranch, describeProblem, fieldPath, pointerParts, problems } from '../domain/schema-errors.js';

/** Sends `{"error": {code, message, details?}}` with the status of the code. */
export function sendError(reply: FastifyReply, code: ErrorCode, message: string, details?: unknown): FastifyReply {
  const body = details === undefined ? { error: { code, message } } : { error: { code, message, details } };
  return reply.code(ERROR_STATUS[code]).type('application/json').send(JSON.stringify(body));
}

/**
 * The one place where errors become HTTP responses. Our JobsError carries its code; Fastify's own errors
 * (validation, body size, media type, JSON syntax) are mapped to codes of the catalogue. Anything else is a
 * bug: logged with its stack, answered 500 without one.
 */
export function errorHandler(error: FastifyError | JobsError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof JobsError) return sendError(reply, error.code, error.message, error.details);
  const fe = error as FastifyError & { validationContext?: string };
  if (fe.validation) {
    if (fe.validationContext === 'body' && request.body === undefined) {
      return sendError(reply, 'invalid_json', 'The request body is empty: send a JSON object with Content-Type: application/json.');
    }
    const context = fe.validationContext ?? 'body';
    const part = context === 'body' ? request.body : context === 'querystring' ? request.query : context === 'params' ? request.params : request.headers;
    const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[context];
    return sendError(reply, 'invalid_request', describeValidation(fe.validation as ErrorObject[], context, part, schema));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendError(reply, 'payload_too_large', `The request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 0} bytes.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return sendError(reply, 'unsupported_media_type', 'Send JSON with Content-Type: application/json (UTF-8).');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendError(reply, 'invalid_json', 'The request body is empty: send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sendError(reply, 'invalid_json', `The request body is not valid JSON: ${fe.message}`);
  }
  if (fe.statusCode === 413) return sendError(reply, 'payload_too_large', fe.message);
  if (fe.statusCode === 415) return sendError(reply, 'unsupported_media_type', fe.message);
  if (fe.statusCode != null && fe.statusCode >= 400 && fe.statusCode < 500) {
    return sendError(reply, 'invalid_request', fe.message);
  }
  request.log.error({ err: error }, 'unexpected error');
  return sendError(reply, 'internal_error', 'Something went wrong on our side; the error was logged. Retry, and report it if it persists.');
}

/**
 * A validator error as a sentence that names the field and says what it must be. `data` and `schema` (the
 * request part and its route schema) let a missing field be reported with the unknown keys beside it, which
 * are usually the same field misspelt: Ajv checks `required` first and stops there.
 */
export function describeValidation(errors: ErrorObject[], context: string, data?: unknown, schema?: unknown): string {
  const name = (path: string) =>
    context === 'body' ? path || 'the request body' : context === 'querystring' ? (path ? `query parameter ${path}` : 'the query string') : path ? `${context} ${path}` : context;
  const [problem] = problems(errors);
  if (!problem) return `${name('')} is invalid.`;
  // Within a union told apart by `type`, the branch the value chose: its missing field gets the unknown keys too.
  const first = chosenBranch(problem);
  const clause = describeProblem(first, {
    name,
    notAllowed: (field) => `${field} is not a known field; remove it (see /docs for the fields of this request)`,
  });
  if (first.error.keyword !== 'required') return `${clause}.`;
  const unknown = unknownKeys(first.error, data, schema);
  if (unknown.length === 0) return `${clause}.`;
  const keys = unknown.slice(0, 3).map((k) => JSON.stringify(k)).join(', ') + (unknown.length > 3 ? ', …' : '');
  const owner = name(fieldPath(first.error.instancePath));
  return `${clause}; ${owner} has ${unknown.length === 1 ? 'an unknown field' : 'unknown fields'} ${keys} — misspelt or misplaced?`;
}

/** The keys of the object a `required` error is about that its schema does not allow (none if it allows any). */
function unknownKeys(error: ErrorObject, data: unknown, schema: unknown): string[] {
  const object = at(data, pointerParts(error.instancePath));
  // The schema path ends in /required; what precedes it is the object's schema (inline in the route schema).
  const parts = error.schemaPath.split('/');
  if (parts[0] !== '#' || parts[parts.length - 1] !== 'required') return [];
  const objectSchema = at(schema, parts.slice(1, -1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) as
    | { properties?: Record<string, unknown>; patternProperties?: Record<string, unknown>; additionalProperties?: unknown }
    | undefined;
  if (!isObject(object) || !isObject(objectSchema) || objectSchema.additionalProperties !== false) return [];
  const known = objectSchema.properties ?? {};
  const patterns = Object.keys(objectSchema.patternProperties ?? {}).map((p) => new RegExp(p, 'u'));
  return Object.keys(object).filter((key) => !Object.hasOwn(known, key) && !patterns.some((re) => re.test(key)));
}

function at(value: unknown, parts: string[]): unknown {
  let current = value;
  for (const part of parts) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

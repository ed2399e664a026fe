import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ERROR_STATUS, type ErrorCode } from '../protocol/errors.js';
import { JobsError } from '../domain/jobs-error.js';

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
    return sendError(reply, 'invalid_request', describeValidation(fe.validation as ErrorObject[], fe.validationContext ?? 'body'));
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

/** A validator error as a sentence that names the field and says what it must be. */
export function describeValidation(errors: ErrorObject[], context: string): string {
  // `anyOf`/`oneOf` report every branch; the most specific error is usually the first non-union one.
  const error = errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if') ?? errors[0];
  const root = context === 'body' ? '' : context === 'querystring' ? 'query parameter ' : `${context} `;
  const path = fieldPath(error.instancePath);
  const at = (suffix?: string) => root + (path ? (suffix ? `${path}.${suffix}` : path) : suffix ?? (context === 'body' ? 'the request body' : context));
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${at(String(p.missingProperty))} is required.`;
    case 'additionalProperties':
      return `${at(String(p.additionalProperty))} is not a known field; remove it (see /docs for the fields of this request).`;
    case 'type':
      return `${at()} must be ${article(String(p.type))}.`;
    case 'minLength':
      return p.limit === 1 ? `${at()} must not be empty.` : `${at()} must be at least ${p.limit} characters long.`;
    case 'maxLength':
      return `${at()} must be at most ${p.limit} characters long.`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at()} must be ${String(p.comparison)} ${p.limit}.`;
    case 'minItems':
      return `${at()} must have at least ${p.limit} item(s).`;
    case 'maxItems':
      return `${at()} must have at most ${p.limit} items.`;
    case 'maxProperties':
      return `${at()} must have at most ${p.limit} keys.`;
    case 'minProperties':
      return `${at()} must have at least ${p.limit} field(s).`;
    case 'uniqueItems':
      return `${at()} must not repeat items.`;
    case 'enum':
      return `${at()} must be one of ${JSON.stringify(p.allowedValues)}.`;
    case 'const':
      return `${at()} must be ${JSON.stringify(p.allowedValue)}.`;
    case 'pattern':
      return `${at()} is not in the expected format${describePattern(String(p.pattern))}.`;
    case 'format':
      return `${at()} must be ${p.format === 'date-time' ? 'an RFC 3339 timestamp, e.g. 2026-03-19T12:00:00Z' : `a valid ${p.format}`}.`;
    default:
      return `${at()} ${error.message ?? 'is invalid'}.`;
  }
}

function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function article(type: string): string {
  if (type === 'object' || type === 'array' || type === 'integer') return `an ${type}`;
  if (type === 'null') return 'null';
  return `a ${type}`;
}

function describePattern(pattern: string): string {
  const prefix = /^\^(job|agt|evt|msg|dlv|key|wtk)_/.exec(pattern);
  if (prefix) return `: expected an id like ${prefix[1]}_01hxyz… (the prefix, _ and 26 lowercase ULID characters)`;
  if (pattern.startsWith('^whsec_')) return ': expected whsec_ followed by base64 of 24–64 random bytes';
  return ` (${pattern})`;
}

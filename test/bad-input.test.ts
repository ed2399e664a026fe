import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from './support/engines.js';
import { call, startTestServer, type ApiResponse, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch } from './support/fixtures.js';

/** One bad request and what it must get. */
interface BadCase {
  name: string;
  method?: string;
  path?: string;
  /** JSON body (serialised) or a raw string body. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Which credential to send. @default 'api_key' */
  as?: 'api_key' | 'worker' | 'none' | 'revoked' | string;
  status: number;
  code: string;
  /** Words the message must contain (it names the field and says how to fix it); each of a list. */
  says?: string | string[];
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

for (const engine of ENGINES) {
  describe(`bad input gets a clear error and loses nothing (${engine})`, () => {
    let server: TestServer;
    let agent: { id: string; token: string };
    let revokedKey: string;
    let jobId: string;
    let lease: string;
    const cases: BadCase[] = [];

    beforeAll(async () => {
      server = await startTestServer(engine);
      agent = await createAgent(server);
      const key = await server.api('POST', '/v1/keys', { name: 'to revoke' });
      revokedKey = key.body.key;
      await server.api('DELETE', `/v1/keys/${key.body.id}`);
      jobId = await dispatch(server, agent.id);
      lease = (await claim(server, agent))[0].lease.token;
    });
    afterAll(() => server.stop());

    const job = (brief: unknown, extra: Record<string, unknown> = {}) => ({ agent_id: 'AGENT', brief, ...extra });
    const add = (c: BadCase) => cases.push(c);

    // Malformed JSON and media types
    add({ name: 'truncated JSON', raw: '{"agent_id": "x", "brief": {', status: 400, code: 'invalid_json', says: 'not valid JSON' });
    add({ name: 'trailing garbage', raw: '{"agent_id": "x"}xyz', status: 400, code: 'invalid_json' });
    add({ name: 'empty body with a JSON content type', raw: '', status: 400, code: 'invalid_json', says: 'empty' });
    // The parser skips a UTF-8 byte-order mark, so the body is then judged on its fields like any other.
    add({ name: 'a byte-order mark before the JSON', raw: '\ufeff{"agent_id":"x"}', status: 400, code: 'invalid_request', says: 'brief is required' });
    add({ name: 'a top-level array', body: [], status: 400, code: 'invalid_request', says: 'must be an object' });
    add({ name: 'a top-level string', body: 'job', status: 400, code: 'invalid_request', says: 'must be an object' });
    add({ name: 'text/plain', raw: '{}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' });
    add({ name: 'charset=utf-16', raw: '{}', headers: { 'content-type': 'application/json; charset=utf-16' }, status: 415, code: 'unsupported_media_type', says: 'UTF-8' });
    add({ name: 'a gzip Content-Encoding', raw: '{}', headers: { 'content-encoding': 'gzip' }, status: 415, code: 'unsupported_media_type', says: 'uncompressed' });
    add({ name: 'a body over 2 MiB', raw: JSON.stringify(job({ objective: 'x', context: 'y'.repeat(2.1 * 1024 * 1024) })), status: 413, code: 'payload_too_large' });
    add({ name: 'JSON nested 10,000 deep', raw: `{"agent_id":"x","metadata":{"a":${deep(10_000)}}}`, status: 400, code: 'invalid_request', says: 'deeper than' });
    add({ name: 'a __proto__ key', raw: '{"__proto__":{"isAdmin":true},"agent_id":"x"}', status: 400, code: 'invalid_request', says: '__proto__' });
    add({ name: 'a constructor.prototype key', raw: '{"constructor":{"prototype":{"x":1}},"agent_id":"x"}', status: 400, code: 'invalid_request', says: 'constructor' });

    // Fields of the dispatch
    add({ name: 'no agent_id', body: { brief: { objective: 'x' } }, status: 400, code: 'invalid_request', says: 'agent_id is required' });
    add({ name: 'a malformed agent_id', body: { agent_id: 'researcher', brief: { objective: 'x' } }, status: 400, code: 'invalid_request', says: 'agent_id is not in the expected format' });
    add({ name: 'no brief', body: { agent_id: 'AGENT' }, status: 400, code: 'invalid_request', says: 'brief is required' });
    add({ name: 'no objective', body: job({ context: 'c' }), status: 400, code: 'invalid_request', says: 'brief.objective is required.' });
    // A missing field is reported with the unknown keys beside it: usually the same field, misspelt or misplaced.
    add({ name: 'a misspelt objective', body: job({ objetive: 'x' }), status: 400, code: 'invalid_request', says: 'brief.objective is required; brief has an unknown field "objetive" — misspelt or misplaced?' });
    add({ name: 'an objective outside the brief', body: { agent_id: 'AGENT', objective: 'x' }, status: 400, code: 'invalid_request', says: 'brief is required; the request body has an unknown field "objective"' });
    add({ name: 'a misspelt observer url', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', uri: 'https://example.com/h', evnts: [] }] }), status: 400, code: 'invalid_request', says: 'observers[0].url is required; observers[0] has unknown fields "uri", "evnts"' });
    add({ name: 'an empty objective', body: job({ objective: '' }), status: 400, code: 'invalid_request', says: 'brief.objective must not be empty' });
    add({ name: 'an objective that is a number', body: job({ objective: 42 }), status: 400, code: 'invalid_request', says: 'brief.objective must be a string' });
    add({ name: 'a context that is an object', body: job({ objective: 'x', context: { a: 1 } }), status: 400, code: 'invalid_request', says: 'brief.context must be a string' });
    add({ name: 'an objective over 64 KiB', body: job({ objective: 'x'.repeat(65 * 1024) }), status: 413, code: 'payload_too_large', says: 'brief.objective' });
    add({ name: 'an unknown top-level field (mass assignment)', body: job({ objective: 'x' }, { status: 'completed' }), status: 400, code: 'invalid_request', says: 'status is not a known field' });
    add({ name: 'an unknown brief field', body: job({ objective: 'x', priority: 1 }), status: 400, code: 'invalid_request', says: 'brief.priority is not a known field' });
    add({ name: 'metadata that is an array', body: job({ objective: 'x' }, { metadata: [1] }), status: 400, code: 'invalid_request', says: 'metadata must be an object' });
    add({ name: 'metadata with 51 keys', body: job({ objective: 'x' }, { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }), status: 400, code: 'invalid_request', says: 'metadata must have at most 50 keys' });
    add({ name: 'max_attempts 0', body: job({ objective: 'x', constraints: { max_attempts: 0 } }), status: 400, code: 'invalid_request', says: 'brief.constraints.max_attempts must be >= 1' });
    add({ name: 'max_attempts as a string', body: job({ objective: 'x', constraints: { max_attempts: '3' } }), status: 400, code: 'invalid_request', says: 'brief.constraints.max_attempts must be an integer' });
    add({ name: 'a fractional max_tokens', body: job({ objective: 'x', constraints: { max_tokens: 1.5 } }), status: 400, code: 'invalid_request', says: 'brief.constraints.max_tokens must be an integer' });
    add({ name: 'a negative max_duration_seconds', body: job({ objective: 'x', constraints: { max_duration_seconds: -1 } }), status: 400, code: 'invalid_request', says: 'max_duration_seconds' });
    add({ name: 'observers that is an object', body: job({ objective: 'x' }, { observers: { url: 'x' } }), status: 400, code: 'invalid_request', says: 'observers must be an array' });
    add({ name: 'an unknown observer event', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', url: 'https://example.com/h', events: ['started'] }] }), status: 400, code: 'invalid_request', says: 'observers[0].events[0] must be one of "running", "completed", "failed", "cancelled", "input_required".' });
    add({ name: 'a status name as an observer event', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', url: 'https://example.com/h', events: ['job.completed'] }] }), status: 400, code: 'invalid_request', says: 'observers[0].events[0] must be one of "running", "completed", "failed", "cancelled", "input_required".' });
    add({ name: 'an ftp observer URL', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', url: 'ftp://example.com/h' }] }), status: 400, code: 'webhook_url_not_allowed', says: 'observers[0].url' });
    add({ name: 'an observer URL with credentials', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', url: 'https://user:pw@example.com/h' }] }), status: 400, code: 'webhook_url_not_allowed', says: 'observers[0].url' });
    add({ name: 'a malformed observer secret', body: job({ objective: 'x' }, { observers: [{ type: 'webhook', url: 'https://example.com/h', secret: 'hunter2' }] }), status: 400, code: 'invalid_request', says: 'observers[0].secret' });
    add({ name: 'eleven observers', body: job({ objective: 'x' }, { observers: Array.from({ length: 11 }, () => ({ type: 'webhook', url: 'https://example.com/h' })) }), status: 400, code: 'invalid_request', says: 'observers must have at most 10 items' });
    add({ name: 'an output_schema with an unknown type', body: job({ objective: 'x', output_schema: { type: 'objekt' } }), status: 400, code: 'invalid_output_schema', says: 'brief.output_schema.type must be one of "array", "boolean", "integer", "null", "number", "object", "string", or an array' });
    add({ name: 'an output_schema with an unknown nested type', body: job({ objective: 'x', output_schema: { type: 'object', properties: { n: { type: 'int' } } } }), status: 400, code: 'invalid_output_schema', says: ['brief.output_schema.properties.n.type must be one of "array"', '"string", or an array'] });
    add({ name: 'an output_schema with properties that is not an object', body: job({ objective: 'x', output_schema: { properties: 5 } }), status: 400, code: 'invalid_output_schema', says: 'brief.output_schema.properties must be an object' });
    add({ name: 'an output_schema in draft-07', body: job({ objective: 'x', output_schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } }), status: 400, code: 'invalid_output_schema', says: 'brief.output_schema.$schema is "http://json-schema.org/draft-07/schema#"; this server checks JSON Schema draft 2020-12: remove $schema or set it to "https://json-schema.org/draft/2020-12/schema".' });
    add({ name: 'an output_schema whose $schema is a number', body: job({ objective: 'x', output_schema: { $schema: 5 } }), status: 400, code: 'invalid_output_schema', says: 'brief.output_schema.$schema is 5' });
    add({ name: 'an output_schema with a dangling $ref', body: job({ objective: 'x', output_schema: { $ref: '#/$defs/missing' } }), status: 400, code: 'invalid_output_schema', says: 'brief.output_schema has a $ref that does not resolve: "#/$defs/missing"' });
    add({ name: 'an output_schema that is not an object', body: job({ objective: 'x', output_schema: 'string' }), status: 400, code: 'invalid_request', says: 'brief.output_schema must be an object' });
    add({ name: 'an Idempotency-Key of 256 characters', body: job({ objective: 'x' }), headers: { 'idempotency-key': 'k'.repeat(256) }, status: 400, code: 'invalid_idempotency_key' });
    add({ name: 'an Idempotency-Key with a space', path: '/v1/keys', body: {}, headers: { 'idempotency-key': 'a b' }, status: 400, code: 'invalid_idempotency_key', says: 'Idempotency-Key must be 1–255 printable ASCII characters' });

    // Ids, queries and routes
    add({ name: 'an unknown job id', method: 'GET', path: '/v1/jobs/job_01hxyz0000000000000000000a', status: 404, code: 'job_not_found' });
    add({ name: 'a malformed job id', method: 'GET', path: `/v1/jobs/${encodeURIComponent("' OR 1=1--")}`, status: 404, code: 'job_not_found' });
    add({ name: 'a 10,000-character job id', method: 'GET', path: `/v1/jobs/${'j'.repeat(10_000)}`, status: 404, code: 'job_not_found' });
    add({ name: 'a path-traversal job id', method: 'GET', path: '/v1/jobs/..%2f..%2fadmin', status: 404, code: 'job_not_found' });
    add({ name: 'a tampered cursor', method: 'GET', path: '/v1/jobs?cursor=bm90LWFuLWlk', status: 400, code: 'invalid_cursor', says: 'cursor' });
    add({ name: 'limit=0', method: 'GET', path: '/v1/jobs?limit=0', status: 400, code: 'invalid_request', says: 'query parameter limit must be >= 1' });
    add({ name: 'limit=1000', method: 'GET', path: '/v1/jobs?limit=1000', status: 400, code: 'invalid_request', says: 'limit must be <= 100' });
    add({ name: 'limit=abc', method: 'GET', path: '/v1/jobs?limit=abc', status: 400, code: 'invalid_request', says: 'limit must be an integer' });
    add({ name: 'an unknown status filter', method: 'GET', path: '/v1/jobs?status=done', status: 400, code: 'invalid_request', says: 'query parameter status must be one of "queued", "running", "completed", "failed", "cancelled".' });
    add({ name: 'created_after that is not a time', method: 'GET', path: '/v1/jobs?created_after=yesterday', status: 400, code: 'invalid_request', says: 'created_after' });
    add({ name: 'a __proto__ query parameter', method: 'GET', path: '/v1/jobs?__proto__[x]=1', status: 400, code: 'invalid_request', says: 'not a known field' });
    // A repeated query parameter is named as repeated, not blamed on its value (the parser makes it an array).
    add({ name: 'a repeated status filter', method: 'GET', path: '/v1/jobs?status=completed&status=failed', status: 400, code: 'invalid_request', says: 'query parameter status was given more than once; give it once.' });
    add({ name: 'a repeated limit', method: 'GET', path: '/v1/jobs?limit=1&limit=2', status: 400, code: 'invalid_request', says: 'query parameter limit was given more than once' });
    add({ name: 'a repeated metadata filter', method: 'GET', path: '/v1/jobs?metadata%5Bcustomer%5D=a&metadata%5Bcustomer%5D=b', status: 400, code: 'invalid_request', says: 'query parameter metadata[customer] was given more than once' });
    add({ name: 'a repeated cursor of another list', method: 'GET', path: '/v1/keys?cursor=a&cursor=b', status: 400, code: 'invalid_request', says: 'query parameter cursor was given more than once' });
    add({ name: 'a repeated after of the events', method: 'GET', path: '/v1/jobs/JOB/events?after=a&after=b', status: 400, code: 'invalid_request', says: 'query parameter after was given more than once' });
    add({ name: 'a cursor on the events (they take after)', method: 'GET', path: '/v1/jobs/JOB/events?cursor=x', status: 400, code: 'invalid_request', says: 'query parameter cursor is not a known field' });
    add({ name: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'not_found', says: '/docs' });

    // Credentials
    add({ name: 'no Authorization header', method: 'GET', path: '/v1/jobs', as: 'none', status: 401, code: 'unauthenticated', says: 'Bearer' });
    add({ name: 'an unknown key', method: 'GET', path: '/v1/jobs', as: 'ak_wrongwrongwrongwrong', status: 401, code: 'unauthenticated' });
    add({ name: 'a Basic Authorization header', method: 'GET', path: '/v1/jobs', headers: { authorization: 'Basic dXNlcjpwdw==' }, as: 'none', status: 401, code: 'unauthenticated' });
    add({ name: 'a revoked key', method: 'GET', path: '/v1/jobs', as: 'revoked', status: 401, code: 'unauthenticated' });
    add({ name: 'a worker token on a client route', method: 'GET', path: '/v1/jobs', as: 'worker', status: 403, code: 'forbidden', says: 'API key' });
    add({ name: 'an API key on a worker route', path: '/v1/agents/AGENT/claim', body: {}, status: 403, code: 'forbidden', says: 'worker token' });

    // Agents and the worker protocol
    add({ name: 'an agent with an empty name', path: '/v1/agents', body: { name: '' }, status: 400, code: 'invalid_request', says: 'name must not be empty' });
    add({ name: 'an agent with max_concurrency 0', path: '/v1/agents', body: { name: 'a', max_concurrency: 0 }, status: 400, code: 'invalid_request', says: 'max_concurrency' });
    add({ name: 'an empty agent patch', method: 'PATCH', path: '/v1/agents/AGENT', body: {}, status: 400, code: 'invalid_request', says: 'at least 1 field' });
    // A runtime is told apart by its type: a wrong type is named with the allowed ones, and a runtime of a known type
    // is judged as that type alone.
    add({ name: 'an unknown runtime type', path: '/v1/agents', body: { name: 'a', runtime: { type: 'lambda' } }, status: 400, code: 'invalid_request', says: 'runtime.type must be one of "worker", "model".' });
    add({ name: 'a runtime type that is a number', path: '/v1/agents', body: { name: 'a', runtime: { type: 5 } }, status: 400, code: 'invalid_request', says: 'runtime.type must be one of "worker", "model".' });
    add({ name: 'a runtime without a type', path: '/v1/agents', body: { name: 'a', runtime: { model: 'm' } }, status: 400, code: 'invalid_request', says: 'runtime.type is required and must be one of "worker", "model".' });
    add({ name: 'a runtime that is a string', path: '/v1/agents', body: { name: 'a', runtime: 'worker' }, status: 400, code: 'invalid_request', says: 'runtime must be an object.' });
    add({ name: 'a model runtime without base_url', path: '/v1/agents', body: { name: 'a', runtime: { type: 'model', model: 'm' } }, status: 400, code: 'invalid_request', says: 'runtime.base_url is required.' });
    add({ name: 'a model runtime with base_url misspelt', path: '/v1/agents', body: { name: 'a', runtime: { type: 'model', model: 'm', base_ur: 'https://example.com/v1' } }, status: 400, code: 'invalid_request', says: 'runtime.base_url is required; runtime has an unknown field "base_ur"' });
    add({ name: 'a model runtime with an unknown field', path: '/v1/agents', body: { name: 'a', runtime: { type: 'model', base_url: 'https://example.com/v1', model: 'm', foo: 1 } }, status: 400, code: 'invalid_request', says: 'runtime.foo is not a known field' });
    add({ name: 'a worker runtime with a model', path: '/v1/agents', body: { name: 'a', runtime: { type: 'worker', model: 'm' } }, status: 400, code: 'invalid_request', says: 'runtime.model is not a known field' });
    add({ name: 'an agent patch to an unknown runtime type', method: 'PATCH', path: '/v1/agents/AGENT', body: { runtime: { type: 'lambda' } }, status: 400, code: 'invalid_request', says: 'runtime.type must be one of "worker", "model".' });

    // Routes that take no body refuse a field in one, like every other body (and before doing anything).
    add({ name: 'a field in a secret rotation', path: '/v1/webhook-secret/rotate', body: { foo: 1 }, status: 400, code: 'invalid_request', says: 'foo is not a known field' });
    add({ name: 'a field in a cancel', path: '/v1/jobs/job_01hxyz0000000000000000000a/cancel', body: { reason: 'x' }, status: 400, code: 'invalid_request', says: 'reason is not a known field' });
    add({ name: 'a field in a worker token request', path: '/v1/agents/AGENT/worker-tokens', body: { name: 'ci' }, status: 400, code: 'invalid_request', says: 'name is not a known field' });
    add({ name: 'a field in a delivery retry', path: '/v1/deliveries/msg_01hxyz0000000000000000000a/retry', body: { foo: 1 }, status: 400, code: 'invalid_request', says: 'foo is not a known field' });
    add({ name: 'a field in an agent deletion', method: 'DELETE', path: '/v1/agents/agt_01hxyz0000000000000000000a', body: { force: true }, status: 400, code: 'invalid_request', says: 'force is not a known field' });
    add({ name: 'a field in a key revocation', method: 'DELETE', path: '/v1/keys/key_01hxyz0000000000000000000a', body: { foo: 1 }, status: 400, code: 'invalid_request', says: 'foo is not a known field' });
    add({ name: 'an array as a cancel body', path: '/v1/jobs/job_01hxyz0000000000000000000a/cancel', body: [], status: 400, code: 'invalid_request', says: 'the request body must be an object' });
    add({ name: 'a claim of 0 jobs', path: '/v1/agents/AGENT/claim', body: { max_jobs: 0 }, as: 'worker', status: 400, code: 'invalid_request', says: 'max_jobs must be >= 1' });
    add({ name: 'a claim that waits 31 s', path: '/v1/agents/AGENT/claim', body: { wait_seconds: 31 }, as: 'worker', status: 400, code: 'invalid_request', says: 'wait_seconds must be <= 30' });
    add({ name: 'a heartbeat without lease_token', path: '/v1/jobs/JOB/heartbeat', body: {}, as: 'worker', status: 400, code: 'invalid_request', says: 'lease_token is required' });
    add({ name: 'a heartbeat with another job\'s token', path: '/v1/jobs/JOB/heartbeat', body: { lease_token: 'lt_notthis' }, as: 'worker', status: 409, code: 'lease_lost' });
    add({ name: 'a fail without a message', path: '/v1/jobs/JOB/fail', body: { lease_token: 'LEASE', error: {} }, as: 'worker', status: 400, code: 'invalid_request', says: 'error.message is required' });
    add({ name: 'a result over 1 MiB', path: '/v1/jobs/JOB/complete', body: { lease_token: 'LEASE', result: 'r'.repeat(1100 * 1024) }, as: 'worker', status: 413, code: 'payload_too_large', says: 'result' });

    it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

    it('answers each bad request with the documented status, code and a message that names the field, never a stack trace', async () => {
      const failures: string[] = [];
      for (const c of cases) {
        const swap = (s: string) => s.replaceAll('AGENT', agent.id).replaceAll('JOB', jobId).replaceAll('LEASE', lease);
        const token =
          c.as === 'none' ? null : c.as === 'worker' ? agent.token : c.as === 'revoked' ? revokedKey : c.as && c.as !== 'api_key' ? c.as : server.apiKey;
        const headers: Record<string, string> = { ...(c.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
        const body = c.body === undefined ? undefined : JSON.parse(swap(JSON.stringify(c.body)));
        const res = await call(server.url, c.method ?? 'POST', swap(c.path ?? '/v1/jobs'), body, { token, headers, raw: c.raw });
        const problems: string[] = [];
        if (res.status !== c.status) problems.push(`status ${res.status}`);
        if (res.body?.error?.code !== c.code) problems.push(`code ${res.body?.error?.code}`);
        const says = typeof c.says === 'string' ? [c.says] : c.says ?? [];
        if (says.some((words) => !String(res.body?.error?.message).includes(words))) problems.push(`message "${res.body?.error?.message}"`);
        if (/\n\s+at |node_modules|\.ts:\d+/.test(res.text)) problems.push('stack trace');
        if (problems.length) failures.push(`${c.name}: ${problems.join(', ')}`);
      }
      expect(failures).toEqual([]);
    });

    it('names the property a result may not have, under result, when output_schema forbids it', async () => {
      const strict = await createAgent(server, { name: 'strict' });
      const outputSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
      const id = await dispatch(server, strict.id, { brief: { objective: 'x', output_schema: outputSchema } });
      const [item] = await claim(server, strict);
      const complete = (result: unknown) =>
        server.api('POST', `/v1/jobs/${id}/complete`, { lease_token: item.lease.token, result }, { token: strict.token });
      const extra = await complete({ answer: 'a', summary: 's' });
      expect(extra.status).toBe(422);
      expect(extra.body.error.code).toBe('output_schema_mismatch');
      expect(extra.body.error.message).toContain('result.summary is not allowed (additionalProperties is false)');
      expect(extra.body.error.message).not.toContain('(root)');
      expect(extra.body.error.details[0]).toMatchObject({ path: '', keyword: 'additionalProperties', params: { additionalProperty: 'summary' } });
      const wrong = await complete({ answer: 42 });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error.message).toContain('result.answer must be a string');
      const bare = await complete('just text');
      expect(bare.body.error.message).toContain('result must be an object');
      expect((await complete({ answer: 'a' })).status).toBe(200);
    });

    it('still takes no body, an empty JSON body or {} on the routes that take no body', async () => {
      const other = await createAgent(server, { name: 'no body' });
      const posts: Array<[string, (path: string) => Promise<ApiResponse>]> = [
        ['no body', (path) => call(server.url, 'POST', path, undefined, { token: server.apiKey })],
        ['an empty JSON body', (path) => call(server.url, 'POST', path, undefined, { token: server.apiKey, raw: '', headers: { 'content-type': 'application/json' } })],
        ['{}', (path) => server.api('POST', path, {})],
      ];
      for (const [what, post] of posts) {
        expect((await post(`/v1/jobs/${await dispatch(server, other.id)}/cancel`)).status, `cancel with ${what}`).toBe(202);
        expect((await post('/v1/webhook-secret/rotate')).status, `rotate with ${what}`).toBe(200);
        expect((await post(`/v1/agents/${other.id}/worker-tokens`)).status, `worker token with ${what}`).toBe(201);
      }
      expect((await call(server.url, 'DELETE', `/v1/agents/${other.id}`, undefined, { token: server.apiKey })).status).toBe(204);
    });

    it('describes in OpenAPI the metadata[key] filter and the Idempotency-Key header, as the routes take them', async () => {
      const doc = (await call(server.url, 'GET', '/openapi.json')).body;
      const metadata = doc.paths['/v1/jobs'].get.parameters.find((p: any) => p.name === 'metadata');
      expect(metadata).toMatchObject({ in: 'query', style: 'deepObject', explode: true, schema: { type: 'object' } });
      expect(metadata.description).toContain('metadata[key]=value');
      const idempotent = [
        'post /v1/jobs',
        'post /v1/jobs/{job_id}/subjobs',
        'post /v1/jobs/{job_id}/messages',
        'post /v1/jobs/{job_id}/artifacts',
        'post /v1/jobs/{job_id}/rerun',
        'post /v1/agents',
        'post /v1/agents/{agent_id}/worker-tokens',
        'post /v1/keys',
        'post /v1/schedules',
        'post /v1/schedules/{schedule_id}/trigger',
        'post /v1/batches',
      ];
      for (const [path, item] of Object.entries<any>(doc.paths)) {
        for (const [method, operation] of Object.entries<any>(item)) {
          const header = (operation.parameters ?? []).find((p: any) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
          expect(Boolean(header), `${method} ${path}`).toBe(idempotent.includes(`${method} ${path}`));
        }
      }
      // Routes that take no body show none.
      for (const path of [
        '/v1/jobs/{job_id}/cancel',
        '/v1/webhook-secret/rotate',
        '/v1/agents/{agent_id}/worker-tokens',
        '/v1/deliveries/{msg_id}/retry',
        '/v1/schedules/{schedule_id}/trigger',
        '/v1/batches/{batch_id}/cancel',
      ]) {
        expect(doc.paths[path].post.requestBody, path).toBeUndefined();
      }
      // What the document describes, the server takes.
      expect((await server.api('GET', '/v1/jobs?metadata%5Bcustomer%5D=acme')).status).toBe(200);
      expect((await server.api('GET', '/v1/jobs?metadata[customer]=acme&metadata[tier]=gold')).status).toBe(200);
      expect((await server.api('POST', '/v1/keys', { name: 'idempotent' }, { headers: { 'idempotency-key': 'k-1' } })).status).toBe(201);
      const replay = await server.api('POST', '/v1/keys', { name: 'idempotent' }, { headers: { 'idempotency-key': 'k-1' } });
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    });

    it('documents which lists page with ?cursor= and which with ?after=, as the server takes them', async () => {
      const doc = (await call(server.url, 'GET', '/openapi.json')).body;
      const lists = (parameter: string) =>
        Object.entries<any>(doc.paths)
          .filter(([, item]) => item.get?.parameters?.some((p: any) => p.in === 'query' && p.name === parameter))
          .map(([path]) => path)
          .sort();
      expect(lists('after')).toEqual(['/v1/jobs/{job_id}/events']);
      expect(lists('cursor')).toEqual([
        '/v1/agents',
        '/v1/jobs',
        '/v1/jobs/{job_id}/deliveries',
        '/v1/jobs/{job_id}/input-requests',
        '/v1/jobs/{job_id}/messages',
        '/v1/keys',
        '/v1/schedules',
      ]);
      const conventions = readFileSync(new URL('../docs/http-api.md', import.meta.url), 'utf8');
      const paging = conventions.slice(conventions.indexOf('- Lists'), conventions.indexOf('- Repeating'));
      expect(paging).toContain('`?cursor=`');
      expect(paging).toMatch(/events \(`GET \/v1\/jobs\/\{id\}\/events`\)[^;]*`\?after=`/);
      const events = await server.api('GET', `/v1/jobs/${jobId}/events?limit=1`);
      expect((await server.api('GET', `/v1/jobs/${jobId}/events?after=${events.body.data[0].id}`)).status).toBe(200);
    });

    it('keeps serving afterwards, with nothing half-written and the prototype untouched', async () => {
      expect((await server.api('GET', '/healthz')).status).toBe(200);
      const list = await server.api('GET', `/v1/jobs?agent_id=${agent.id}&limit=100`);
      expect(list.body.data.map((j: any) => j.id)).toEqual([jobId]);
      expect(({} as any).isAdmin).toBeUndefined();
      expect(await dispatch(server, agent.id)).toMatch(/^job_/);
    });

    it('stores unusual Unicode verbatim and returns it unchanged', async () => {
      const objective = 'Résumé 🚀 \u202eRTL\u202c zero\u200bwidth \u2028line \u0000nul \ud800lone';
      const id = await dispatch(server, agent.id, { brief: { objective }, metadata: { 'ключ': '値' } });
      const got = await server.api('GET', `/v1/jobs/${id}`);
      // JSON.stringify escapes a lone surrogate, so even that survives the round trip.
      expect(got.body.brief.objective).toBe(objective);
      expect(got.body.metadata).toEqual({ 'ключ': '値' });
    });
  });
}

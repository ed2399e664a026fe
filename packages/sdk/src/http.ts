import { request as undiciRequest } from 'undici';
import type { ErrorCode } from './protocol/errors.js';

/** An error answered by the agentjobs API: its HTTP status, stable `code`, message and details. */
export class AgentJobsError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network_error',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AgentJobsError';
  }
}

/** How the SDK talks to a server. */
export interface Transport {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Bearer token: an API key (client) or a worker token (worker). */
  readonly token: string;
  /**
   * A fetch to send JSON requests with, instead of the SDK's own HTTP client (undici's `request`, which costs a
   * fraction of the CPU of `fetch` per request). Event streams always go through a fetch (this one, or the
   * global one).
   */
  readonly fetch?: typeof fetch;
}

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  idempotencyKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Sends one JSON request and parses the answer; non-2xx answers throw AgentJobsError. */
export async function request<T>(transport: Transport, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  let status: number;
  let text: string;
  if (transport.fetch) {
    const response = await send(transport, method, path, options);
    status = response.status;
    try {
      text = await response.text();
    } catch (error) {
      // The connection broke while the answer was on its way.
      throw networkError(error, new URL(response.url || path, transport.url), options.signal);
    }
  } else {
    const { url, headers, body } = prepare(transport, path, options);
    try {
      const answer = await undiciRequest(url, {
        method: method as 'GET',
        headers,
        body,
        signal: options.signal,
      });
      status = answer.statusCode;
      text = await answer.body.text();
    } catch (error) {
      throw networkError(error, url, options.signal);
    }
  }
  if (status === 204) return undefined as T;
  if (status < 200 || status > 299) throw errorFrom(status, text);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Sends a request through a fetch and returns the raw response (for streams); network failures become AgentJobsError. */
export async function send(transport: Transport, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const { url, headers, body } = prepare(transport, path, options);
  try {
    return await (transport.fetch ?? fetch)(url, {
      method,
      headers,
      body,
      signal: options.signal,
      // The API never redirects, and a followed redirect would turn a POST into a GET. Refusing redirects also
      // spares fetch a copy of every request (and a tee of its body), which it makes only to follow them.
      redirect: 'error',
    });
  } catch (error) {
    throw networkError(error, url, options.signal);
  }
}

/** The URL, headers and JSON body of a request, whichever client sends it. */
function prepare(transport: Transport, path: string, options: RequestOptions): { url: URL; headers: Record<string, string>; body: string | undefined } {
  const url = new URL(path, transport.url);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { authorization: `Bearer ${transport.token}`, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  return { url, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) };
}

/**
 * A failure to get an answer, as AgentJobsError `network_error`. A request stopped by its caller's signal is no
 * network failure: it rejects with the signal's reason (whatever its class, as fetch does), so that an SDK
 * caller that aborts for a reason of its own (a job's cancel, a lost lease) gets that reason back.
 */
function networkError(error: unknown, url: URL, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  return new AgentJobsError(0, 'network_error', `Could not reach ${url.origin}: ${(error as Error).message}`);
}

/** The AgentJobsError of an error response. */
export function errorFrom(status: number, text: string): AgentJobsError {
  try {
    const body = JSON.parse(text) as { error?: { code: ErrorCode; message: string; details?: unknown } };
    if (body.error) return new AgentJobsError(status, body.error.code, body.error.message, body.error.details);
  } catch {
    // not JSON: fall through
  }
  return new AgentJobsError(status, status >= 500 ? 'internal_error' : 'invalid_request', text.slice(0, 500) || `HTTP ${status}`);
}

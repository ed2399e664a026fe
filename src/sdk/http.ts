import type { ErrorCode } from '../protocol/errors.js';

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
  /** The fetch to use (the global one by default). */
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
  const response = await send(transport, method, path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!response.ok) throw errorFrom(response.status, text);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Sends a request and returns the raw response (for streams); network failures become AgentJobsError. */
export async function send(transport: Transport, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const url = new URL(path, transport.url);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { authorization: `Bearer ${transport.token}`, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  try {
    return await (transport.fetch ?? fetch)(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      // The API never redirects, and a followed redirect would turn a POST into a GET. Refusing redirects also
      // spares fetch a copy of every request (and a tee of its body), which it makes only to follow them.
      redirect: 'error',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new AgentJobsError(0, 'network_error', `Could not reach ${url.origin}: ${(error as Error).message}`);
  }
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

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

/** One request as sent: the URL, the method, the headers and the JSON body, if any. */
export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Sends one request and reads its whole answer as text. It rejects only when no answer came (the connection
 * failed, or `signal` aborted it); an error status is an answer.
 */
export type Exchange = (request: OutgoingRequest) => Promise<{ status: number; text: string }>;

/** How the SDK talks to a server. */
export interface Transport {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** Bearer token: an API key (client) or a worker token (worker). */
  readonly token: string;
  /** The fetch of event streams, and of JSON requests when `exchange` is absent. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** What sends JSON requests instead of `fetch` (the worker's Node HTTP client). */
  readonly exchange?: Exchange;
}

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  idempotencyKey?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Sends one JSON request and parses the answer; non-2xx answers throw AgentJobsError. */
export async function request<T>(transport: Transport, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const outgoing = prepare(transport, method, path, options);
  let answer: { status: number; text: string };
  try {
    answer = await (transport.exchange ?? fetchExchange(transport.fetch))(outgoing);
  } catch (error) {
    throw networkError(error, outgoing.url, options.signal);
  }
  if (answer.status === 204) return undefined as T;
  if (answer.status < 200 || answer.status > 299) throw errorFrom(answer.status, answer.text);
  return (answer.text === '' ? undefined : JSON.parse(answer.text)) as T;
}

/** Sends a request through a fetch and returns the raw response (for streams); network failures become AgentJobsError. */
export async function send(transport: Transport, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const outgoing = prepare(transport, method, path, options);
  try {
    return await callFetch(transport.fetch, outgoing);
  } catch (error) {
    throw networkError(error, outgoing.url, options.signal);
  }
}

/** The {@link Exchange} of a fetch (the platform's by default). */
function fetchExchange(fetchImpl: typeof fetch | undefined): Exchange {
  return async (outgoing) => {
    const response = await callFetch(fetchImpl, outgoing);
    // Reading the body may fail too: the connection broke while the answer was on its way.
    return { status: response.status, text: await response.text() };
  };
}

function callFetch(fetchImpl: typeof fetch | undefined, { url, method, headers, body, signal }: OutgoingRequest): Promise<Response> {
  return (fetchImpl ?? fetch)(url, {
    method,
    headers,
    body,
    signal,
    // The API never redirects, and a followed redirect would turn a POST into a GET. Refusing redirects also
    // spares fetch a copy of every request (and a tee of its body), which it makes only to follow them.
    redirect: 'error',
  });
}

/** The URL, headers and JSON body of a request, whichever client sends it. */
function prepare(transport: Transport, method: string, path: string, options: RequestOptions): OutgoingRequest {
  const url = new URL(path, transport.url);
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
  const headers: Record<string, string> = { authorization: `Bearer ${transport.token}`, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return { url, method, headers, body, signal: options.signal };
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

/**
 * The webhook HTTP client: one POST per attempt, through the address guard's connector, judged into a
 * {@link SendResult} for the delivery log. Never follows a redirect, reads a bounded body, and never throws.
 */
import { Agent, request, type Dispatcher } from 'undici';
import { BoundedMap } from '../domain/bounded-map.js';
import {
  BlockedDestinationError,
  checkWebhookUrl,
  createGuardedConnector,
  shortError,
  UnresolvedHostError,
  type GuardPolicy,
  type Resolver,
  type UrlCheckResult,
} from './address-guard.js';

/** How one delivery attempt ended. Only `ok` is a success. */
export type SendOutcome =
  | 'ok'
  | 'http_status'
  | 'timeout'
  | 'redirect_not_followed'
  | 'blocked_destination'
  | 'dns_error'
  | 'tls_error'
  | 'connection_error'
  | 'response_too_large';

/**
 * One attempt, as the delivery log records it.
 *
 * - `ok`: a 2xx status arrived (even if the body was cut at the read bound or broke off afterwards).
 * - `http_status`: any other non-3xx status; `statusCode` tells the caller what to do (410: stop the observer).
 * - `redirect_not_followed`: a 3xx; never followed, counted as a failure.
 * - `blocked_destination`: refused by the guard; no request byte was sent, and for a blocked literal or
 *   DNS answer not even a TCP connection was opened.
 * - `response_too_large`: the response headers exceeded the parser's limit.
 */
export interface SendResult {
  outcome: SendOutcome;
  /** The HTTP status, or null when no response arrived. */
  statusCode: number | null;
  /** Milliseconds from the start of the attempt to its end, body read included. */
  latencyMs: number;
  /** A short human explanation; for error statuses, at most a 1 KiB excerpt of the response body. Null on `ok`. */
  error: string | null;
}

/** One webhook request, already signed. */
export interface WebhookSendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Options of {@link createWebhookSender}. */
export interface WebhookSenderOptions extends GuardPolicy {
  /** Bound on the whole exchange: DNS, connect, TLS, request, response headers and the bounded body read. */
  timeoutMs: number;
  /** Response bytes read before the body is abandoned. @default 65536 */
  maxResponseBytes?: number;
  /** Keep-alive connections per origin, so one slow receiver cannot hold every socket. @default 10 */
  connectionsPerOrigin?: number;
  /** @default the system resolver ({@link Resolver}) */
  resolver?: Resolver;
}

/** The webhook HTTP client. Never throws from `send`; every failure is a {@link SendResult}. */
export interface WebhookSender {
  send(req: WebhookSendRequest): Promise<SendResult>;
  /** Stops accepting sends and waits for the ones in flight (each bounded by `timeoutMs`). */
  close(): Promise<void>;
}

const EXCERPT_BYTES = 1024;
/** How many URL verdicts a sender keeps. */
const CHECKS_KEPT = 1000;
const MAX_LOCATION_CHARS = 200;

/**
 * Creates the only client that should deliver webhooks.
 *
 * One undici Agent holds a keep-alive pool per origin (at most `connectionsPerOrigin` sockets each)
 * and connects through {@link createGuardedConnector}. It is private to the sender, so ambient
 * `HTTP(S)_PROXY` variables and any global dispatcher are ignored: a stray proxy setting cannot route
 * deliveries around the guard.
 */
export function createWebhookSender(opts: WebhookSenderOptions): WebhookSender {
  const agent = new Agent({
    connect: createGuardedConnector({ allowPrivate: opts.allowPrivate, resolver: opts.resolver, connectTimeoutMs: opts.timeoutMs }),
    connections: opts.connectionsPerOrigin ?? 10,
    // Backstops only: the per-send AbortSignal below bounds the whole exchange.
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
  });
  const checks = new BoundedMap<string, UrlCheckResult>(CHECKS_KEPT);
  const settings: SendSettings = {
    timeoutMs: opts.timeoutMs,
    maxResponseBytes: opts.maxResponseBytes ?? 64 * 1024,
    // The URL check depends on the URL's text and this sender's fixed policy alone: its verdict is kept for the
    // URLs seen last (an observer's URL recurs with every message). Names are still resolved and checked at
    // every connection, by the connector.
    check: (url) => {
      let result = checks.get(url);
      if (!result) {
        result = checkWebhookUrl(url, { allowPrivate: opts.allowPrivate });
        checks.set(url, result);
      }
      return result;
    },
  };
  return {
    send: (req) => sendOnce(agent, settings, req),
    close: () => agent.close(),
  };
}

/** Thrown into the request when the whole-exchange timer fires, so the cause is unambiguous. */
class ExchangeTimeoutError extends Error {
  override name = 'ExchangeTimeoutError';
}

interface SendSettings {
  timeoutMs: number;
  maxResponseBytes: number;
  /** {@link checkWebhookUrl} under the sender's policy. */
  check: (url: string) => UrlCheckResult;
}

async function sendOnce(agent: Agent, settings: SendSettings, req: WebhookSendRequest): Promise<SendResult> {
  const started = performance.now();
  const finish = (outcome: SendOutcome, statusCode: number | null, error: string | null): SendResult => ({
    outcome,
    statusCode,
    latencyMs: Math.round(performance.now() - started),
    error,
  });

  // Checked before every send, not only at dispatch: IP literals never reach the connector's lookup,
  // and rows written before a policy change must not slip through.
  const checked = settings.check(req.url);
  if (!checked.ok) return finish('blocked_destination', null, checked.message);

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ExchangeTimeoutError(`no complete response within ${settings.timeoutMs} ms`)), settings.timeoutMs);
  try {
    const response = await request(checked.url, {
      dispatcher: agent,
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
    });
    const excerpt = await readBounded(response.body, settings.maxResponseBytes);
    return finish(...judgeResponse(response, excerpt));
  } catch (err) {
    const [outcome, error] = controller.signal.aborted ? (['timeout', shortError(controller.signal.reason)] as const) : judgeError(err);
    return finish(outcome, null, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads at most `maxBytes` of the body, then destroys it: a receiver streaming a gigabyte (or dribbling
 * bytes) costs us bounded memory. Keeps the first 1 KiB as an excerpt. Errors while reading (our timeout
 * included) end the read; the status already received stands.
 */
async function readBounded(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (keptBytes < EXCERPT_BYTES) {
        kept.push(chunk.subarray(0, EXCERPT_BYTES - keptBytes));
        keptBytes += kept[kept.length - 1]!.length;
      }
      if (total >= maxBytes) break; // leaving the loop destroys the stream and its socket
    }
  } catch {
    // The body broke off or our timer fired; what was read is enough for an excerpt.
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return Buffer.concat(kept).toString('utf8');
}

function judgeResponse(response: Dispatcher.ResponseData, excerpt: string): [SendOutcome, number, string | null] {
  const status = response.statusCode;
  if (status >= 200 && status < 300) return ['ok', status, null];
  if (status >= 300 && status < 400) {
    // The Location goes into the log (it is how an http→https misconfiguration shows); the body does not.
    const location = response.headers['location'];
    const target = typeof location === 'string' ? ` to ${location.slice(0, MAX_LOCATION_CHARS)}` : '';
    return ['redirect_not_followed', status, `HTTP ${status}: redirect${target} not followed`];
  }
  const trimmed = excerpt.trim();
  return ['http_status', status, trimmed === '' ? `HTTP ${status}` : `HTTP ${status}: ${trimmed}`];
}

/** Maps a failed request to an outcome by looking through the error and its causes. */
function judgeError(err: unknown): [SendOutcome, string] {
  const chain = causeChain(err);
  const blocked = chain.find((e) => e instanceof BlockedDestinationError);
  if (blocked) return ['blocked_destination', blocked.message];
  const dns = chain.find((e) => e instanceof UnresolvedHostError);
  if (dns) return ['dns_error', dns.message];
  const codes = chain.map((e) => String((e as { code?: unknown }).code ?? ''));
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return ['timeout', shortError(err)];
  if (codes.includes('UND_ERR_HEADERS_OVERFLOW')) return ['response_too_large', 'response headers exceed the size limit'];
  if (chain.some(isTlsError)) return ['tls_error', shortError(chain.find(isTlsError))];
  // The most specific error is the first one carrying a system or undici code (ECONNREFUSED, …).
  return ['connection_error', shortError(chain.find((e) => typeof (e as { code?: unknown }).code === 'string') ?? err)];
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function isTlsError(err: Error): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return (
    /^ERR_(TLS|SSL)_/.test(code) ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code) ||
    (err as { library?: unknown }).library === 'SSL routines'
  );
}

/** The error, its `cause`s and the members of AggregateErrors (Happy Eyeballs reports one per address). */
function causeChain(err: unknown): Error[] {
  const seen: Error[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.length < 20) {
    const next = queue.shift();
    if (!(next instanceof Error) || seen.includes(next)) continue;
    seen.push(next);
    if (next.cause !== undefined) queue.push(next.cause);
    if (next instanceof AggregateError) queue.push(...next.errors);
  }
  return seen;
}

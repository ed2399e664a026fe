/**
 * One HTTP request through undici's low-level `dispatch`, without the stream that
 * `request()` builds around every response body.
 *
 * Why: the load generator shares this 2-core machine with the server under test, so every
 * microsecond the client spends per request is taken from the server. Measured here against the
 * bare Fastify endpoint, `Pool.request()` cost the client 55–98 µs per request, `Client.request()`
 * ~52 µs and `dispatch()` with this handler ~45 µs — the same as autocannon.
 */
import type { Dispatcher } from 'undici';

/** One request to send. */
export interface HttpRequestSpec {
  /** HTTP method. */
  method: Dispatcher.HttpMethod;
  /** Path with query, e.g. `/v1/jobs`. */
  path: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body, already serialised (serialising inside a measured loop would load the client). */
  body?: string | Buffer;
}

/** What came back. */
export interface HttpAnswer {
  /** Status code. */
  status: number;
  /** The body as UTF-8, or `''` when it was not asked for. */
  body: string;
}

/**
 * Sends `spec` on `dispatcher` (a `Client` or a `Pool`) and resolves when the whole response
 * has arrived. Rejects on connection errors only; any status resolves.
 * @param readBody - keep the body: always, never, or depending on the status (e.g. only to explain
 *   an unexpected one); a body not kept is dropped chunk by chunk as it arrives
 */
export function sendHttp(
  dispatcher: Dispatcher,
  spec: HttpRequestSpec,
  readBody: boolean | ((status: number) => boolean),
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let keep = readBody === true;
    const chunks: Buffer[] = [];
    dispatcher.dispatch(
      {
        method: spec.method,
        path: spec.path,
        ...(spec.headers === undefined ? {} : { headers: spec.headers }),
        ...(spec.body === undefined ? {} : { body: spec.body }),
      },
      {
        // Defining onRequestStart is what tells undici this handler uses its current API.
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode;
          if (typeof readBody === 'function') keep = readBody(statusCode);
        },
        onResponseData(_controller, chunk) {
          if (keep) chunks.push(chunk);
        },
        onResponseEnd() {
          resolve({ status, body: keep ? Buffer.concat(chunks).toString('utf8') : '' });
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      },
    );
  });
}

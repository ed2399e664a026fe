/**
 * The worker's HTTP client: Node's `http` module on keep-alive sockets. A worker on Node spends about a fifth
 * of the CPU per request that `fetch` costs it (docs/decisions.md). Only the worker imports this file: the
 * client and the webhook verifier stay free of Node built-ins.
 */
import http from 'node:http';
import https from 'node:https';
import type { Exchange, OutgoingRequest } from './http.js';

// A socket idle this long is closed before the server's keep-alive timeout can close it under a new request.
// Node's agent shortens it further when the server announces a shorter `Keep-Alive: timeout`.
const IDLE_SOCKET_MS = 30_000;
// No answer (nor progress) on a socket for this long: give up. A claim's long poll answers within 60 s.
const SOCKET_TIMEOUT_MS = 300_000;

const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
};

/** Sends one request with Node's `http`/`https`; see {@link Exchange}. */
export const nodeExchange: Exchange = async (outgoing) => {
  try {
    return await exchangeOnce(outgoing);
  } catch (error) {
    // The server closed a kept-alive socket just as this request went out on it: it never read the request,
    // so sending it again on a new socket is safe (the retry Node's documentation recommends).
    if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
      return exchangeOnce(outgoing);
    }
    throw error;
  }
};

function exchangeOnce({ url, method, headers, body, signal }: OutgoingRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const agent = agents[url.protocol as keyof typeof agents];
    if (!agent) return reject(new TypeError(`${url.protocol} URLs are not supported; use http: or https:`));
    const client = url.protocol === 'https:' ? https : http;
    const sent = client.request(url, { method, headers, agent, signal }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
      response.on('close', () => response.complete || reject(new Error('the connection closed before the answer was complete')));
    });
    sent.setTimeout(SOCKET_TIMEOUT_MS, () => sent.destroy(new Error(`no answer within ${SOCKET_TIMEOUT_MS / 1000} s`)));
    sent.on('error', (error) => reject(Object.assign(error, { reusedSocket: sent.reusedSocket })));
    sent.end(body);
  });
}

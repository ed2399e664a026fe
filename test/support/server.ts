import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server.js';
import type { ServerOptions } from '../../src/options.js';
import { dropDatabase, engineOptions, type Engine } from './engines.js';

/** A server started for a test, with the first API key and helpers to call it. */
export interface TestServer extends RunningServer {
  apiKey: string;
  dataDir: string;
  /** Calls the API with the first API key (or `token`). */
  api: (method: string, path: string, body?: unknown, init?: { token?: string | null; headers?: Record<string, string> }) => Promise<ApiResponse>;
  stop: () => Promise<void>;
}

/** A response, with the body parsed when it is JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** Starts a real server on a random loopback port, with its store on the given engine. */
export async function startTestServer(engine: Engine = 'sqlite', options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-test-'));
  const store = await engineOptions(engine);
  const server = await startServer(
    { port: 0, host: '127.0.0.1', dataDir, allowPrivateWebhooks: true, announce: () => {}, ...store, ...options },
    pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  const apiKey = server.firstKey!;
  const api: TestServer['api'] = (method, path, body, init = {}) =>
    call(server.url, method, path, body, { token: init.token === undefined ? apiKey : init.token, headers: init.headers });
  return Object.assign(server, {
    apiKey,
    dataDir,
    api,
    stop: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (store.databaseUrl) await dropDatabase(store.databaseUrl);
    },
  });
}

/** One HTTP request to a server, returning status, headers and the parsed body. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  init: { token?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let payload: string | undefined = init.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(new URL(path, baseUrl), { method, headers, body: payload });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

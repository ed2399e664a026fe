import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake provider received. */
export interface FakeModelRequest {
  /** The parsed JSON body (`model`, `messages`, `tools`, `response_format`…). */
  body: any;
  headers: IncomingHttpHeaders;
  path: string;
  receivedAt: number;
  /** True once the client closed the connection before the reply was sent (an aborted call). */
  closedByClient: boolean;
  /** Resolves when the client closes the connection before a reply was sent. */
  closed: Promise<void>;
}

/** One scripted reply of the fake provider. */
export type FakeReply =
  /**
   * A chat completion with this assistant message; `usage` is its `total_tokens` (default 10). Streamed (when the
   * client asks), its text goes out a word at a time, `pauseMs` apart (default 0).
   */
  | { content?: string | null; tool_calls?: Array<{ name: string; arguments: unknown; id?: string }>; refusal?: string; usage?: number; pauseMs?: number }
  /** An error answer. */
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Holds the request open and never answers (until the client goes away). */
  | { hang: true }
  /** Holds the request open until the promise gives the reply. */
  | { later: Promise<FakeReply> };

/** A scripted step: a reply, or a function of the request that returns one. */
export type FakeStep = FakeReply | ((request: FakeModelRequest) => FakeReply);

/** A running fake provider. */
export interface FakeModel {
  /** The base URL an agent's `runtime.base_url` should name (`http://127.0.0.1:<port>/v1`). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: FakeModelRequest[];
  /** Resolves once `n` requests have arrived. */
  received(n: number, timeoutMs?: number): Promise<FakeModelRequest>;
  stop(): Promise<void>;
}

/**
 * A test double of an OpenAI-compatible provider only: a real HTTP server on 127.0.0.1 that speaks the chat
 * completions wire format (`POST /v1/chat/completions`, streamed when asked) and answers the n-th request with
 * the n-th step of its script (the last step repeats). Our side talks to it through the official `openai` client, unchanged.
 */
export async function startFakeModel(script: FakeStep[]): Promise<FakeModel> {
  const requests: FakeModelRequest[] = [];
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let markClosed: () => void = () => {};
      const record: FakeModelRequest = {
        body: JSON.parse(Buffer.concat(chunks).toString() || 'null'),
        headers: req.headers,
        path: req.url ?? '',
        receivedAt: Date.now(),
        closedByClient: false,
        closed: new Promise<void>((resolve) => (markClosed = resolve)),
      };
      res.on('close', () => {
        if (!res.writableFinished) {
          record.closedByClient = true;
          markClosed();
        }
      });
      requests.push(record);
      for (const wake of waiters.splice(0)) wake();
      if (req.method !== 'POST' || !record.path.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${record.path}` } }));
        return;
      }
      const step = script[Math.min(requests.length - 1, script.length - 1)];
      void answer(typeof step === 'function' ? step(record) : step);

      async function answer(reply: FakeReply): Promise<void> {
        if ('hang' in reply) return;
        if ('later' in reply) return answer(await reply.later);
        if (res.destroyed) return;
        if ('status' in reply) {
          res
            .writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers })
            .end(JSON.stringify(reply.body ?? { error: { message: `scripted failure ${reply.status}`, type: 'server_error' } }));
          return;
        }
        const full = completion(record.body?.model, reply, requests.length);
        if (record.body?.stream) return streamCompletion(res, full, record.body.stream_options?.include_usage === true, reply.pauseMs ?? 0);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(full));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    async received(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > deadline) throw new Error(`the fake provider received ${requests.length} request(s), expected ${n}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return requests[n - 1];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A completion as a client that asked for `stream: true` receives it: Server-Sent Events of chunks — the role,
 * the text a word at a time, the tool calls, the finish reason, the usage when asked for — then `[DONE]`.
 */
async function streamCompletion(res: import('node:http').ServerResponse, full: ReturnType<typeof completion>, includeUsage: boolean, pauseMs: number): Promise<void> {
  const { message, finish_reason: finish } = full.choices[0];
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
  const chunks: unknown[] = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }];
  for (const piece of message.content?.match(/\S+\s*|\s+/g) ?? []) chunks.push({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
  if (message.refusal) chunks.push({ ...base, choices: [{ index: 0, delta: { refusal: message.refusal }, finish_reason: null }] });
  if (message.tool_calls) {
    const parts = message.tool_calls.map((call, index) => ({ index, ...call }));
    chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: parts }, finish_reason: null }] });
  }
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
  if (includeUsage) chunks.push({ ...base, choices: [], usage: full.usage });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const chunk of chunks) {
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  res.end('data: [DONE]\n\n');
}

/** The wire shape of a chat completion. */
function completion(model: string, reply: Extract<FakeReply, { content?: unknown }>, n: number) {
  const toolCalls = reply.tool_calls?.map((call, i) => ({
    id: call.id ?? `call_${n}_${i}`,
    type: 'function',
    function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
  }));
  const total = reply.usage ?? 10;
  return {
    id: `chatcmpl-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content ?? null,
          refusal: reply.refusal ?? null,
          ...(toolCalls ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls ? 'tool_calls' : 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: Math.ceil(total / 2), completion_tokens: Math.floor(total / 2), total_tokens: total },
  };
}

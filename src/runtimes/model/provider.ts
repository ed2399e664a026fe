import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import { JOB_ERROR_CODES } from '@agentjobs/sdk/protocol';
import { ModelRunError } from './errors.js';

/** How one agent's provider is reached. */
export interface ProviderConfig {
  /** The OpenAI-compatible base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** The API key, or null when the endpoint needs none (no `Authorization` header is sent then). */
  apiKey: string | null;
  /** Timeout of one call (until the response headers arrive). */
  timeoutMs: number;
}

/** The retry policy of provider calls. */
export interface RetryPolicy {
  /** Retries after the first call. */
  maxRetries: number;
  /** Backoff before the first retry; doubles each time, minus up to 25 % jitter. */
  baseMs: number;
  /** Longest backoff, and the most a `Retry-After` answer is honoured. */
  maxMs: number;
}

/** Calls the chat completions endpoint of one agent. */
export interface ModelProvider {
  /**
   * One chat completion, streamed and assembled, retried on transient failures; `onText` hears the text of the
   * assistant's message as it arrives (a retried call may repeat what an interrupted one had sent). Rejects with
   * the signal's reason when the signal aborts (the request in flight is aborted, which closes its connection),
   * and with a {@link ModelRunError} (`model_timeout` or `model_provider_error`) when the provider keeps failing
   * or refuses the request.
   */
  complete(body: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal, onText?: (delta: string) => void): Promise<ChatCompletion>;
}

/** Called before each retry (for logs and progress). */
export type RetryListener = (info: { attempt: number; delayMs: number; error: string }) => void;

/**
 * A provider backed by the official `openai` client. The client's own retries are turned off
 * (`maxRetries: 0`): its backoff sleep cannot be interrupted by an AbortSignal and its delays are fixed, while
 * ours stop at once on a cancel and take their delays from the server options (short ones in tests).
 */
export function openAiProvider(config: ProviderConfig, policy: RetryPolicy, onRetry: RetryListener = () => {}): ModelProvider {
  const client = new OpenAI({
    baseURL: config.baseUrl,
    // The client insists on a key; with none, the Authorization header is removed below instead.
    apiKey: config.apiKey ?? 'none',
    ...(config.apiKey == null ? { defaultHeaders: { Authorization: null } } : {}),
    // Given explicitly so the client reads nothing from the environment (OPENAI_ORG_ID, OPENAI_LOG…).
    organization: null,
    project: null,
    webhookSecret: null,
    logLevel: 'off',
    maxRetries: 0,
    timeout: config.timeoutMs,
  });
  return {
    async complete(body, signal, onText) {
      for (let attempt = 0; ; attempt++) {
        try {
          const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal });
          return await assemble(stream, onText);
        } catch (error) {
          if (signal.aborted) throw signal.reason;
          const failure = classify(error);
          if (!failure.retryable || attempt >= policy.maxRetries) throw failure.final(attempt + 1);
          const delayMs = backoff(attempt, policy, failure.retryAfterMs);
          onRetry({ attempt: attempt + 1, delayMs, error: failure.message });
          await sleep(delayMs, signal);
        }
      }
    },
  };
}

/**
 * A streamed chat completion put back together as the one a non-streaming call returns: the text and refusal
 * concatenated, each tool call's name and arguments joined by its index, the usage of the last chunk.
 */
async function assemble(stream: AsyncIterable<ChatCompletionChunk>, onText?: (delta: string) => void): Promise<ChatCompletion> {
  let head: Pick<ChatCompletionChunk, 'id' | 'created' | 'model'> | null = null;
  let content: string | null = null;
  let refusal: string | null = null;
  let finish: ChatCompletion.Choice['finish_reason'] | null = null;
  let usage: ChatCompletion['usage'];
  let chose = false;
  const calls: ChatCompletionMessageFunctionToolCall[] = [];
  for await (const chunk of stream) {
    head ??= chunk;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    if (!choice) continue;
    chose = true;
    const delta = choice.delta ?? {};
    if (delta.content) {
      content = (content ?? '') + delta.content;
      onText?.(delta.content);
    }
    if (delta.refusal) refusal = (refusal ?? '') + delta.refusal;
    for (const part of delta.tool_calls ?? []) {
      const call = (calls[part.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.function.name += part.function.name;
      if (part.function?.arguments) call.function.arguments += part.function.arguments;
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  const toolCalls = calls.filter(Boolean);
  return {
    id: head?.id ?? '',
    object: 'chat.completion',
    created: head?.created ?? 0,
    model: head?.model ?? '',
    choices: chose
      ? [
          {
            index: 0,
            message: { role: 'assistant', content, refusal, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
            finish_reason: finish ?? 'stop',
            logprobs: null,
          },
        ]
      : [],
    ...(usage ? { usage } : {}),
  };
}

interface Failure {
  retryable: boolean;
  message: string;
  retryAfterMs: number | null;
  final(attempts: number): ModelRunError;
}

/** Sorts a client error into retryable or not, with the job error it becomes when retries are spent. */
function classify(error: unknown): Failure {
  const tries = (attempts: number) => (attempts === 1 ? '' : ` (${attempts} attempts)`);
  if (error instanceof APIConnectionTimeoutError) {
    return {
      retryable: true,
      message: 'request timed out',
      retryAfterMs: null,
      final: (n) =>
        new ModelRunError(
          JOB_ERROR_CODES.modelTimeout,
          `The model provider did not answer within the request timeout${tries(n)}. Raise the agent's runtime.request_timeout_seconds, or check the endpoint.`,
        ),
    };
  }
  if (error instanceof APIConnectionError) {
    const cause = (error.cause as Error | undefined)?.message;
    return {
      retryable: true,
      message: `connection failed${cause ? `: ${cause}` : ''}`,
      retryAfterMs: null,
      final: (n) =>
        new ModelRunError(
          JOB_ERROR_CODES.modelProviderError,
          `Could not reach the model provider${tries(n)}: ${error.message}${cause ? ` (${cause})` : ''}. Check the agent's runtime.base_url.`,
        ),
    };
  }
  if (error instanceof APIError) {
    const status = error.status ?? 0;
    // The statuses the official clients retry: timeouts, lock conflicts, rate limits and server errors.
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const text = truncate(error.message, 500);
    return {
      retryable,
      message: `HTTP ${status}`,
      retryAfterMs: retryAfter(error.headers),
      final: (n) =>
        new ModelRunError(JOB_ERROR_CODES.modelProviderError, `The model provider answered ${text}${tries(n)}.`, {
          details: { status, ...(error.code ? { provider_code: error.code } : {}) },
        }),
    };
  }
  // Anything else (a response that is not JSON, a bug in a proxy) will not get better by asking again.
  const message = error instanceof Error ? error.message : String(error);
  return {
    retryable: false,
    message,
    retryAfterMs: null,
    final: () => new ModelRunError(JOB_ERROR_CODES.modelProviderError, `The model provider call failed: ${truncate(message, 500)}`),
  };
}

/** Exponential backoff with up to 25 % jitter downwards, or the provider's `Retry-After` when it gave one. */
function backoff(attempt: number, policy: RetryPolicy, retryAfterMs: number | null): number {
  if (retryAfterMs != null) return Math.min(policy.maxMs, retryAfterMs);
  const base = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.round(base * (1 - Math.random() * 0.25));
}

function retryAfter(headers: Headers | undefined): number | null {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const seconds = Number.parseFloat(headers?.get('retry-after') ?? '');
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

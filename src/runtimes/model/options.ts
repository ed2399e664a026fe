import type { Millis } from '../../domain/time.js';
import { JobsError } from '../../domain/jobs-error.js';
import type { RuntimeCheck } from '../../jobs/context.js';

/**
 * Options of the model runtime (the loop that runs agents of runtime `{"type": "model"}` inside the server).
 * Per-agent settings (model, base URL, instructions, temperature, `max_turns`, `request_timeout_seconds`) live
 * on the agent; these are the server-wide defaults and bounds.
 */
export interface ModelRuntimeOptions {
  /** Run model agents in this server process. Turn it off on processes that should only serve HTTP. @default true */
  enabled?: boolean;
  /**
   * Where the variable named by an agent's `api_key_env` is looked up. Keys are read at each run and never
   * stored. @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The variable names an agent's `api_key_env` may name: exact names, or patterns where `*` stands for any
   * run of characters. Without this bound, any tenant could point `api_key_env` at a server secret (say
   * `DATABASE_URL`) and `base_url` at its own host, and receive the secret as a bearer token.
   * @default ["*_API_KEY"]
   */
  apiKeyEnvNames?: readonly string[];
  /** Model jobs run at once per agent in this process when the agent sets no `max_concurrency`. @default 4 */
  defaultConcurrency?: number;
  /** Retries of a provider call that failed with a connection error, a timeout, 408, 409, 429 or 5xx. @default 3 */
  maxRetries?: number;
  /** Backoff before the first retry; it doubles with each retry, minus up to 25 % jitter. @default 1000 */
  retryBaseMs?: Millis;
  /** Longest backoff, also the most a provider's `Retry-After` is honoured. @default 30000 */
  retryMaxMs?: Millis;
  /** Timeout of one provider call when the agent sets no `request_timeout_seconds`. @default 300000 */
  requestTimeoutMs?: Millis;
  /** Times the model is asked to correct a result that does not match `output_schema` before the job fails. @default 2 */
  maxCorrections?: number;
  /** How long one claim of the runtime long-polls for work (seconds, at most 30). @default 25 */
  claimWaitSeconds?: number;
  /** How often the list of model agents is read again, besides the wake-ups of dispatches. @default 5000 */
  agentRefreshMs?: Millis;
}

/** Model runtime options with every default applied. */
export type ResolvedModelRuntimeOptions = Readonly<Required<ModelRuntimeOptions>>;

/** Applies the defaults of {@link ModelRuntimeOptions} and checks the values once. */
export function resolveModelRuntimeOptions(options: ModelRuntimeOptions = {}): ResolvedModelRuntimeOptions {
  const resolved: Required<ModelRuntimeOptions> = {
    enabled: options.enabled ?? true,
    env: options.env ?? process.env,
    apiKeyEnvNames: Object.freeze([...(options.apiKeyEnvNames ?? ['*_API_KEY'])]),
    defaultConcurrency: options.defaultConcurrency ?? 4,
    maxRetries: options.maxRetries ?? 3,
    retryBaseMs: options.retryBaseMs ?? 1000,
    retryMaxMs: options.retryMaxMs ?? 30_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 300_000,
    maxCorrections: options.maxCorrections ?? 2,
    claimWaitSeconds: options.claimWaitSeconds ?? 25,
    agentRefreshMs: options.agentRefreshMs ?? 5000,
  };
  const wholes: Array<keyof ModelRuntimeOptions> = ['defaultConcurrency', 'maxRetries', 'maxCorrections'];
  for (const key of wholes) {
    const value = resolved[key] as number;
    if (!Number.isInteger(value) || value < 0) throw new Error(`modelRuntime.${key} must be a whole number ≥ 0, got ${value}`);
  }
  if (resolved.defaultConcurrency < 1) throw new Error('modelRuntime.defaultConcurrency must be at least 1');
  if (!(resolved.claimWaitSeconds > 0 && resolved.claimWaitSeconds <= 30)) throw new Error('modelRuntime.claimWaitSeconds must be in (0, 30]');
  for (const key of ['retryBaseMs', 'retryMaxMs', 'requestTimeoutMs', 'agentRefreshMs'] as const) {
    if (!(resolved[key] > 0)) throw new Error(`modelRuntime.${key} must be a positive number of milliseconds`);
  }
  return Object.freeze(resolved);
}

/**
 * The composition root's check of an agent's runtime: a model agent whose `api_key_env` this server would never
 * hand out is refused with 400 when it is created or changed, instead of failing every job later.
 */
export function makeRuntimeCheck(options: ResolvedModelRuntimeOptions): RuntimeCheck {
  return (runtime) => {
    if (runtime.type !== 'model' || runtime.api_key_env == null) return;
    if (!apiKeyEnvAllowed(runtime.api_key_env, options.apiKeyEnvNames)) {
      throw new JobsError('invalid_request', apiKeyEnvRefusal(runtime.api_key_env, options.apiKeyEnvNames));
    }
  };
}

/** Why `runtime.api_key_env` may not name `name` on this server, and what to do: for a 400 at creation and a failed job. */
export function apiKeyEnvRefusal(name: string, patterns: readonly string[]): string {
  const allowed = patterns.length > 0 ? `it allows ${patterns.join(', ')}` : 'it allows none';
  return `runtime.api_key_env names '${name}', which this server does not hand out as an API key: ${allowed} (the server's modelRuntime.apiKeyEnvNames option). Rename the variable or ask the operator to allow it.`;
}

/** True when `name` is one of the allowed variable names (`*` in a pattern matches any run of characters). */
export function apiKeyEnvAllowed(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    const source = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${source}$`).test(name);
  });
}

import { DEFAULT_LIMITS, type Limits } from './domain/limits.js';
import { parseDuration, parseDurationList, type Millis } from './domain/time.js';
import type { Resolver } from './webhooks/address-guard.js';
import { resolveModelRuntimeOptions, type ModelRuntimeOptions, type ResolvedModelRuntimeOptions } from './runtimes/model/options.js';

/** Options of `agentjobs serve`. Every one is also a flag and an `AGENTJOBS_…` environment variable (see the CLI). */
export interface ServerOptions {
  /** TCP port. @default 8080 */
  port?: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** Folder of the SQLite file and admin.key. @default "./data" */
  dataDir?: string;
  /** `postgres://…`: use PostgreSQL instead of the embedded SQLite file. @default undefined */
  databaseUrl?: string;
  /** Allow webhooks to loopback and private addresses (local development only). @default false */
  allowPrivateWebhooks?: boolean;
  /** Delays between webhook retries. @default "5s,5m,30m,2h,5h,10h,10h" */
  webhookRetrySchedule?: string | Millis[];
  /** Timeout of one webhook POST. @default "10s" */
  webhookTimeout?: string | Millis;
  /** Lease length when a claim does not ask for one. @default "30s" */
  leaseDuration?: string | Millis;
  /** pino log level. @default "info" */
  logLevel?: string;
  /** Deepest subjob (root = 0). @default 10 */
  maxDepth?: number;
  /** Most direct subjobs of one job. @default 1000 */
  maxSubjobs?: number;
  /** Largest request body in bytes. @default 2097152 */
  bodyLimit?: number;
  /** Largest artifact in bytes (its route takes a body large enough for it in base64). @default 10485760 */
  maxArtifactBytes?: number;
  /** Most artifacts of one job. @default 100 */
  maxArtifactsPerJob?: number;
  /** Database time for the SQLite store (tests move it). @default Date.now */
  clock?: () => Millis;
  /** How webhook host names are resolved (tests pass a fake DNS). @default the system resolver */
  resolver?: Resolver;
  /** Write the first-start API key to this stream as well as admin.key. @default process.stderr */
  announce?: (line: string) => void;
  /** The model runtime that runs agents of runtime `model` in this process (see docs/model-agents.md). @default {} */
  modelRuntime?: ModelRuntimeOptions;
}

/** Options with every default applied, frozen. */
export interface ResolvedOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  readonly allowPrivateWebhooks: boolean;
  readonly webhookRetrySchedule: readonly Millis[];
  readonly webhookTimeoutMs: Millis;
  readonly leaseMs: Millis;
  readonly logLevel: string;
  readonly limits: Readonly<Limits>;
  readonly clock: () => Millis;
  readonly resolver: Resolver | undefined;
  readonly announce: (line: string) => void;
  readonly modelRuntime: ResolvedModelRuntimeOptions;
}

/** Applies defaults and checks values once; the result is passed down as an argument, never read from globals. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const schedule =
    typeof options.webhookRetrySchedule === 'string'
      ? parseDurationList(options.webhookRetrySchedule)
      : (options.webhookRetrySchedule ?? parseDurationList('5s,5m,30m,2h,5h,10h,10h'));
  const resolved: ResolvedOptions = {
    port: options.port ?? 8080,
    host: options.host ?? '127.0.0.1',
    dataDir: options.dataDir ?? './data',
    databaseUrl: options.databaseUrl ?? null,
    allowPrivateWebhooks: options.allowPrivateWebhooks ?? false,
    webhookRetrySchedule: Object.freeze([...schedule]),
    webhookTimeoutMs: duration(options.webhookTimeout, '10s'),
    leaseMs: duration(options.leaseDuration, '30s'),
    logLevel: options.logLevel ?? 'info',
    limits: Object.freeze({
      ...DEFAULT_LIMITS,
      ...(options.maxDepth != null ? { maxDepth: options.maxDepth } : {}),
      ...(options.maxSubjobs != null ? { maxSubjobs: options.maxSubjobs } : {}),
      ...(options.bodyLimit != null ? { bodyBytes: options.bodyLimit } : {}),
      ...(options.maxArtifactBytes != null ? { artifactBytes: options.maxArtifactBytes } : {}),
      ...(options.maxArtifactsPerJob != null ? { artifactsPerJob: options.maxArtifactsPerJob } : {}),
    }),
    clock: options.clock ?? Date.now,
    resolver: options.resolver,
    announce: options.announce ?? ((line) => process.stderr.write(`${line}\n`)),
    modelRuntime: resolveModelRuntimeOptions(options.modelRuntime),
  };
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) throw new Error(`port ${resolved.port} is not a TCP port (0–65535)`);
  if (resolved.leaseMs < 1000) throw new Error('lease duration must be at least 1s');
  if (resolved.webhookTimeoutMs < 100) throw new Error('webhook timeout must be at least 100ms');
  return Object.freeze(resolved);
}

function duration(value: string | Millis | undefined, fallback: string): Millis {
  if (value == null) return parseDuration(fallback);
  return typeof value === 'number' ? value : parseDuration(value);
}

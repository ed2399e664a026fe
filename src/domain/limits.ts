/** Size and tree limits of SPEC §2 and §4.3; every one is a server option. */
export interface Limits {
  /** Largest request body, in bytes. @default 2 MiB */
  bodyBytes: number;
  /** Largest `brief.objective`, in bytes. @default 64 KiB */
  objectiveBytes: number;
  /** Largest `brief.context`, in bytes. @default 1 MiB */
  contextBytes: number;
  /** Largest `metadata`, serialised, in bytes. @default 16 KiB */
  metadataBytes: number;
  /** Most keys in `metadata`. @default 50 */
  metadataKeys: number;
  /** Most observers on one job. @default 10 */
  observersPerJob: number;
  /** Largest `result`, serialised, in bytes. @default 1 MiB */
  resultBytes: number;
  /** Deepest subjob (a root is depth 0). @default 10 */
  maxDepth: number;
  /** Most direct children of one job. @default 1000 */
  maxSubjobs: number;
  /** Deepest nesting of arrays and objects in a request body. @default 64 */
  jsonDepth: number;
  /** Runs of a job whose worker vanished, when the brief does not say. @default 3 */
  defaultMaxAttempts: number;
  /** Largest `input_schema` of an input request, serialised, in bytes. @default 64 KiB */
  inputSchemaBytes: number;
  /** Largest answer to an input request, serialised, in bytes. @default 1 MiB */
  inputBytes: number;
  /** Largest message sent to a job, serialised, in bytes. @default 64 KiB */
  messageBytes: number;
  /** Most messages sent to one job. @default 1000 */
  messagesPerJob: number;
  /** Most output text of one job, all streams together, in bytes. @default 10 MiB */
  outputBytes: number;
  /** Largest artifact, in bytes of content. @default 10 MiB */
  artifactBytes: number;
  /** Most artifacts of one job. @default 100 */
  artifactsPerJob: number;
  /** How far ahead a delayed start (`not_before`, `delay_seconds`) may be, in milliseconds. @default 365 days */
  maxStartDelayMs: number;
}

/** The defaults of SPEC §2. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  bodyBytes: 2 * 1024 * 1024,
  objectiveBytes: 64 * 1024,
  contextBytes: 1024 * 1024,
  metadataBytes: 16 * 1024,
  metadataKeys: 50,
  observersPerJob: 10,
  resultBytes: 1024 * 1024,
  maxDepth: 10,
  maxSubjobs: 1000,
  jsonDepth: 64,
  defaultMaxAttempts: 3,
  inputSchemaBytes: 64 * 1024,
  inputBytes: 1024 * 1024,
  messageBytes: 64 * 1024,
  messagesPerJob: 1000,
  outputBytes: 10 * 1024 * 1024,
  artifactBytes: 10 * 1024 * 1024,
  artifactsPerJob: 100,
  maxStartDelayMs: 365 * 86_400_000,
});

/**
 * The body limit of `POST /v1/jobs/{id}/artifacts`: an artifact of the largest size sent as base64 (4 bytes for
 * every 3), plus room for the rest of the JSON body. Never below the server's general body limit.
 */
export function artifactBodyLimit(limits: Pick<Limits, 'artifactBytes' | 'bodyBytes'>): number {
  return Math.max(limits.bodyBytes, Math.ceil(limits.artifactBytes / 3) * 4 + 64 * 1024);
}

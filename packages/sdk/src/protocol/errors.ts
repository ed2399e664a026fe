/**
 * The last sentence of a 422 `output_schema_mismatch`: the job keeps running after a refused result. The SDK
 * leaves it out when it fails the job with that message instead (it would be false of a failed job).
 */
export const RESULT_REFUSED_ADVICE = 'The job is still running: fix the result and complete again.';

/**
 * The catalogue of error codes. Every error the API returns has one of these codes; the HTTP status of each
 * code is decided here and nowhere else. Clients may rely on codes; messages are for people.
 */
export const ERROR_STATUS = {
  // 400 — the request is malformed or invalid; the message names the field.
  invalid_json: 400,
  invalid_request: 400,
  invalid_output_schema: 400,
  invalid_input_schema: 400,
  invalid_cursor: 400,
  invalid_idempotency_key: 400,
  webhook_url_not_allowed: 400,
  // 401 — no credential, or one we do not know.
  unauthenticated: 401,
  // 403 — a credential of the wrong kind for this route, a tool the brief does not allow, or a tool call a person denied.
  forbidden: 403,
  tool_not_allowed: 403,
  tool_not_approved: 403,
  // 404 — unknown id, or an id of another tenant (never 403: existence is not revealed).
  not_found: 404,
  agent_not_found: 404,
  job_not_found: 404,
  key_not_found: 404,
  message_not_found: 404,
  artifact_not_found: 404,
  schedule_not_found: 404,
  batch_not_found: 404,
  // 409 — the state of the object forbids the request.
  lease_lost: 409,
  cancel_requested: 409,
  job_already_finished: 409,
  idempotency_key_reused: 409,
  agent_has_running_jobs: 409,
  subjob_limit_reached: 409,
  depth_limit_reached: 409,
  no_pending_input: 409,
  artifact_limit_reached: 409,
  message_limit_reached: 409,
  // 413 / 415
  payload_too_large: 413,
  unsupported_media_type: 415,
  // 422 — well-formed but semantically invalid.
  output_schema_mismatch: 422,
  input_schema_mismatch: 422,
  // 429 / 5xx
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

/** A stable, snake_case error code. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The body of every error response: `{"error": {"code", "message", "details"?}}`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/**
 * Codes a job's `error.code` may carry when the server ends it (agents may report their own codes through
 * `fail`). Kept here so that server, SDK and docs agree on the words.
 */
export const JOB_ERROR_CODES = {
  timeout: 'timeout',
  queueTimeout: 'queue_timeout',
  /** A request for input (or an approval) passed its `expires_at` unanswered. */
  inputTimeout: 'input_timeout',
  tokenBudgetExceeded: 'token_budget_exceeded',
  leaseExpired: 'lease_expired',
  cancelled: 'cancelled',
  parentCancelled: 'parent_cancelled',
  parentFinished: 'parent_finished',
  agentError: 'agent_error',
  agentDeleted: 'agent_deleted',
  /** The model runtime: the provider kept failing (after retries) or refused the request. */
  modelProviderError: 'model_provider_error',
  /** The model runtime: the provider did not answer within the request timeout (after retries). */
  modelTimeout: 'model_timeout',
  /** The model runtime: the environment variable named by `api_key_env` is not set on the server. */
  modelApiKeyMissing: 'model_api_key_missing',
  /** The model runtime: the agent's runtime cannot be used as configured (e.g. a disallowed `api_key_env`). */
  modelConfigError: 'model_config_error',
  /** The model runtime: the model refused to answer. */
  modelRefused: 'model_refused',
  /** The model runtime: the model used all of `max_turns` without a final answer. */
  modelMaxTurns: 'model_max_turns',
  /** The result still did not match `brief.output_schema` after the allowed corrections. */
  outputSchemaMismatch: 'output_schema_mismatch',
} as const;

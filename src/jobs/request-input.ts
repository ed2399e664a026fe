import { APPROVAL_INPUT_SCHEMA, type CreateInputRequest } from '@agentjobs/sdk/protocol';
import { JobsError } from '../domain/jobs-error.js';
import { byteLength, stableStringify } from '../domain/json.js';
import type { Limits } from '../domain/limits.js';
import { safeEqual } from '../domain/secrets.js';
import type { JobRow } from '../store/rows.js';
import { getJobById } from '../store/repo/jobs-repo.js';
import type { JobsContext, Principal } from './context.js';
import { getInputRequest } from '../store/repo/input-requests-repo.js';
import { assertLease, lockLeasedJob, workersJob } from './lease.js';
import { openInputRequest, type InputRequestSpec } from './open-input-request.js';
import type { SchemaValidators } from './schema-validators.js';

/** The `input_schema` of every approval, as stored. */
export const APPROVAL_SCHEMA_TEXT = JSON.stringify(APPROVAL_INPUT_SCHEMA);

/**
 * `POST /v1/jobs/{id}/input-requests`: the worker holding the job asks a person and its lease ends with the
 * request (SPEC §9.1). A retry of the same request with the same (now spent) lease token answers the same request
 * again, so a worker that lost the first answer does not see a `lease_lost` it could not explain.
 */
export async function requestInput(ctx: JobsContext, worker: Principal, jobId: string, input: CreateInputRequest): Promise<string> {
  const spec = prepareInputRequest(ctx.validators, ctx.limits, input);
  return ctx.store.write(async (tx) => {
    const job = workersJob(await getJobById(tx, jobId, true), worker, jobId);
    const repeated = sameRequestAgain(job, input.lease_token, spec);
    if (repeated) return `{"request":${repeated}}`;
    assertLease(job, input.lease_token, tx.now);
    if (job.cancel_requested_at != null) {
      throw new JobsError('cancel_requested', `Job ${jobId} is being cancelled: stop its work (fail it) instead of asking a person.`);
    }
    const { job: waiting } = await openInputRequest(tx, job, spec);
    return `{"request":${waiting.waiting_for}}`;
  });
}

/**
 * A request made by a runtime the server runs itself (the model runtime's `ask_user`), with the state it needs
 * to go on after the answer stored beside the request, in the same transaction.
 */
export async function requestInputWithState(ctx: JobsContext, worker: Principal, jobId: string, leaseToken: string, spec: InputRequestSpec): Promise<string> {
  return ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, leaseToken);
    if (job.cancel_requested_at != null) throw new JobsError('cancel_requested', `Job ${jobId} is being cancelled.`);
    const { job: waiting } = await openInputRequest(tx, job, spec);
    return waiting.waiting_for!;
  });
}

/** The state a runtime stored with one of its job's input requests (see {@link requestInputWithState}), or null. */
export async function loadRuntimeState(ctx: JobsContext, worker: Principal, jobId: string, requestId: string): Promise<string | null> {
  return ctx.store.read(async (tx) => {
    workersJob(await getJobById(tx, jobId), worker, jobId);
    return (await getInputRequest(tx, jobId, requestId))?.runtime_state ?? null;
  });
}

/** Checks a request before its transaction: the kind and its fields, sizes, and the schema (compiled once). */
export function prepareInputRequest(validators: SchemaValidators, limits: Limits, input: Omit<CreateInputRequest, 'lease_token'>): InputRequestSpec {
  const kind = input.kind ?? 'input';
  let inputSchema: string | null = null;
  if (kind === 'approval') {
    if (input.input_schema !== undefined) {
      throw new JobsError(
        'invalid_request',
        'input_schema is fixed for kind "approval" (the answer is {"approved": bool, "note"?: string}); leave it out, or ask with kind "input".',
      );
    }
    inputSchema = APPROVAL_SCHEMA_TEXT;
  } else {
    if (input.tool !== undefined || input.tool_input !== undefined) {
      throw new JobsError('invalid_request', 'tool and tool_input belong to kind "approval"; leave them out, or ask with kind "approval".');
    }
    if (input.input_schema !== undefined) {
      inputSchema = JSON.stringify(input.input_schema);
      tooLarge('input_schema', byteLength(inputSchema), limits.inputSchemaBytes);
      validators.accept(inputSchema, 'input_schema');
    }
  }
  const toolInput = input.tool_input !== undefined ? JSON.stringify(input.tool_input) : null;
  if (toolInput != null) tooLarge('tool_input', byteLength(toolInput), limits.inputSchemaBytes);
  return { kind, prompt: input.prompt, inputSchema, timeoutSeconds: input.timeout_seconds, tool: input.tool ?? null, toolInput };
}

/** The pending request of `job` when it is the one `spec` asks for again with the lease it spent, else null. */
function sameRequestAgain(job: JobRow, leaseToken: string, spec: InputRequestSpec): string | null {
  if (job.waiting_for == null || job.lease_token == null || !safeEqual(job.lease_token, leaseToken)) return null;
  const pending = JSON.parse(job.waiting_for) as Record<string, unknown>;
  const same =
    pending.kind === spec.kind &&
    pending.prompt === spec.prompt &&
    stableStringify(pending.input_schema) === stableStringify(spec.inputSchema == null ? null : JSON.parse(spec.inputSchema)) &&
    pending.tool === (spec.tool ?? null) &&
    stableStringify(pending.tool_input) === stableStringify(spec.toolInput == null ? null : JSON.parse(spec.toolInput));
  return same ? job.waiting_for : null;
}

function tooLarge(field: string, size: number, limit: number): void {
  if (size > limit) throw new JobsError('payload_too_large', `${field} is ${size} bytes; the limit is ${limit} bytes.`);
}

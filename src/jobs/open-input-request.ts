import type { InputKind } from '@agentjobs/sdk/protocol';
import { timerAt, wakesTimerSweep } from '../domain/job-rules.js';
import { newId } from '../domain/ids.js';
import type { InputRequestRow, JobRow } from '../store/rows.js';
import { insertInputRequest } from '../store/repo/input-requests-repo.js';
import { updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import { enqueueWebhooks } from './enqueue-webhooks.js';
import { renderInputRequest } from './render-input-request.js';

/** What a job asks, checked and serialised. */
export interface InputRequestSpec {
  kind: InputKind;
  prompt: string;
  /** JSON text of the schema the answer must match; null accepts any JSON. */
  inputSchema: string | null;
  timeoutSeconds?: number;
  tool?: string | null;
  /** JSON text of the tool call's input. */
  toolInput?: string | null;
  /** Private state stored with the request (the model runtime's conversation). */
  runtimeState?: string | null;
}

/**
 * Makes a leased job wait for a person, in the caller's transaction: stores the request, sets `waiting_for`,
 * and spends the lease — the job stays `running`, but no worker holds it and its agent's concurrency slot is
 * free. The request's expiry joins the job's one timer (`input_timeout`); its deadlines keep running. Appends
 * `job.input_required` and writes the `input_required` webhooks of the job's and its ancestors' observers.
 */
export async function openInputRequest(tx: Tx, job: JobRow, spec: InputRequestSpec): Promise<{ job: JobRow; request: InputRequestRow }> {
  const request: InputRequestRow = {
    id: newId('inputRequest', tx.now),
    tenant_id: job.tenant_id,
    job_id: job.id,
    root_job_id: job.root_job_id,
    kind: spec.kind,
    prompt: spec.prompt,
    input_schema: spec.inputSchema,
    tool: spec.tool ?? null,
    tool_input: spec.toolInput ?? null,
    status: 'pending',
    requested_at: tx.now,
    expires_at: spec.timeoutSeconds != null ? tx.now + spec.timeoutSeconds * 1000 : null,
    answered_at: null,
    input: null,
    runtime_state: spec.runtimeState ?? null,
  };
  await insertInputRequest(tx, request);
  const waitingFor = renderInputRequest(request);
  // The lease token stays on the row, spent: a retry of this very request can still be recognised by it.
  const patch: Partial<JobRow> = {
    waiting_for: waitingFor,
    input_expires_at: request.expires_at,
    lease_expires_at: null,
    input_count: job.input_count + 1,
    // Webhook sequences count what observers are told of the job: this request is one more.
    transition_seq: job.transition_seq + 1,
  };
  const next: JobRow = { ...job, ...patch };
  patch.timer_at = next.timer_at = timerAt(next, tx.now);
  await updateJob(tx, job.id, patch);
  // A concurrency slot of the agent is free now.
  tx.notify('agent', job.agent_id);
  if (wakesTimerSweep(next.timer_at, job.timer_at, tx.now)) tx.notify('timer', '');
  await appendEvent(tx, next, 'job.input_required', { request: JSON.parse(waitingFor) });
  await enqueueWebhooks(tx, next, 'input_required');
  return { job: next, request };
}

import type { Constraints, ToolCallRequest } from '@agentjobs/sdk/protocol';
import { toolAllowed, toolNeedsApproval } from '../domain/job-rules.js';
import { JobsError } from '../domain/jobs-error.js';
import { byteLength } from '../domain/json.js';
import type { JobRow } from '../store/rows.js';
import { getInputRequest } from '../store/repo/input-requests-repo.js';
import type { Tx } from '../store/store.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { lockLeasedJob } from './lease.js';
import { openInputRequest } from './open-input-request.js';
import { APPROVAL_SCHEMA_TEXT } from './request-input.js';

/** How a reported tool call was answered, as the route sends it: go ahead (200), or wait for a person (202). */
export type ToolCallOutcome = { status: 200 | 202; body: string };

/** Largest tool input kept in an approval request; larger ones are summarised (the worker still has it). */
const MAX_APPROVAL_INPUT_BYTES = 64 * 1024;

/**
 * `POST /v1/jobs/{id}/tool-calls`: an agent reports a tool call before making it. Calls outside
 * `allowed_tools` (or inside `denied_tools`) are refused with 403 `tool_not_allowed`. A call of a tool in
 * `approval_required_tools` opens an approval request instead (202, the job waits and the lease ends); reported
 * again with its `approval_request_id` once answered, it is allowed (200) or refused with 403
 * `tool_not_approved`. Every call, allowed or not, is logged as an event of the job.
 */
export async function recordToolCall(
  ctx: JobsContext,
  worker: Principal,
  jobId: string,
  input: ToolCallRequest,
  /** For a runtime of the server's own: what it needs to go on after an approval, stored with the request. */
  runtimeState?: string,
): Promise<ToolCallOutcome> {
  const outcome = await ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    const constraints = (JSON.parse(job.brief) as { constraints?: Constraints }).constraints;
    const logged = input.input !== undefined ? { input: input.input } : {};
    if (!toolAllowed(constraints, input.tool)) {
      await appendEvent(tx, job, 'job.tool_call', { tool: input.tool, allowed: false, ...logged });
      return { refused: 'not_allowed' as const, constraints };
    }
    if (input.approval_request_id !== undefined) return decided(tx, job, input);
    if (toolNeedsApproval(constraints, input.tool)) {
      await appendEvent(tx, job, 'job.tool_call', { tool: input.tool, allowed: false, approval: 'pending', ...logged });
      const { job: waiting } = await openInputRequest(tx, job, {
        kind: 'approval',
        prompt: `Allow job ${job.id} to call the tool '${input.tool}'?`,
        inputSchema: APPROVAL_SCHEMA_TEXT,
        tool: input.tool,
        toolInput: approvalInput(input.input),
        runtimeState,
      });
      return { pending: waiting.waiting_for! };
    }
    return { eventId: await appendEvent(tx, job, 'job.tool_call', { tool: input.tool, allowed: true, ...logged }) };
  });
  // Refusals are committed as events first, then reported: the log shows every attempt.
  if ('refused' in outcome) {
    if (outcome.refused === 'not_approved') {
      throw new JobsError('tool_not_approved', `A person denied this call of '${input.tool}' (approval request ${input.approval_request_id})${outcome.note ? `: ${outcome.note}` : '.'}`);
    }
    const { allowed_tools: allowedTools, denied_tools: deniedTools } = outcome.constraints ?? {};
    throw new JobsError(
      'tool_not_allowed',
      `Tool '${input.tool}' is not allowed for job ${jobId}` +
        (deniedTools?.includes(input.tool) ? ' (it is in brief.constraints.denied_tools).' : `; allowed_tools: ${JSON.stringify(allowedTools)}.`),
    );
  }
  if ('pending' in outcome) return { status: 202, body: `{"status":"pending_approval","request":${outcome.pending}}` };
  return { status: 200, body: `{"allowed":true,"event_id":"${outcome.eventId}"}` };
}

/** A call reported again with the approval it waited for: allowed when a person approved it, refused when denied. */
async function decided(tx: Tx, job: JobRow, input: ToolCallRequest) {
  const id = input.approval_request_id!;
  const request = await getInputRequest(tx, job.id, id);
  if (!request || request.kind !== 'approval' || request.tool !== input.tool || request.status !== 'answered') {
    const what = !request ? 'not an input request of this job' : request.status !== 'answered' ? `${request.status}, not answered` : `not an approval of '${input.tool}'`;
    throw new JobsError(
      'invalid_request',
      `approval_request_id ${id.slice(0, 60)} is ${what}; report the call without approval_request_id to ask for an approval.`,
    );
  }
  const answer = JSON.parse(request.input!) as { approved: boolean; note?: string };
  const eventId = await appendEvent(tx, job, 'job.tool_call', {
    tool: input.tool,
    allowed: answer.approved,
    approval: answer.approved ? 'approved' : 'denied',
    approval_request_id: id,
    ...(input.input !== undefined ? { input: input.input } : {}),
  });
  if (!answer.approved) return { refused: 'not_approved' as const, note: answer.note ?? null, constraints: undefined };
  return { eventId };
}

/** The tool input an approval request shows, as JSON text: large inputs are summarised. */
function approvalInput(value: unknown): string | null {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  const size = byteLength(text);
  return size > MAX_APPROVAL_INPUT_BYTES ? JSON.stringify({ omitted: `an input of ${size} bytes` }) : text;
}

import type { Constraints, ToolCallRequest } from '@agentjobs/sdk/protocol';
import { toolAllowed } from '../domain/job-rules.js';
import { JobsError } from '../domain/jobs-error.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { lockLeasedJob } from './lease.js';

/**
 * `POST /v1/jobs/{id}/tool-calls`: an agent reports a tool call before making it. Calls outside
 * `allowed_tools` (or inside `denied_tools`) are refused with 403 `tool_not_allowed`; allowed or not, every call
 * is logged as an event of the job.
 */
export async function recordToolCall(
  ctx: JobsContext,
  worker: Principal,
  jobId: string,
  input: ToolCallRequest,
): Promise<{ allowed: true; event_id: string }> {
  const outcome = await ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    const constraints = (JSON.parse(job.brief) as { constraints?: Constraints }).constraints;
    const allowed = toolAllowed(constraints, input.tool);
    const eventId = await appendEvent(tx, job, 'job.tool_call', {
      tool: input.tool,
      allowed,
      ...(input.input !== undefined ? { input: input.input } : {}),
    });
    return { allowed, eventId, constraints };
  });
  if (!outcome.allowed) {
    // The refusal is committed as an event first, then reported: the log shows every attempt.
    const { allowed_tools: allowedTools, denied_tools: deniedTools } = outcome.constraints ?? {};
    throw new JobsError(
      'tool_not_allowed',
      `Tool '${input.tool}' is not allowed for job ${jobId}` +
        (deniedTools?.includes(input.tool) ? ' (it is in brief.constraints.denied_tools).' : `; allowed_tools: ${JSON.stringify(allowedTools)}.`),
    );
  }
  return { allowed: true, event_id: outcome.eventId };
}

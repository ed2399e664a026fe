import type { ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import type { InputRequest, Job, JobMessage } from '@agentjobs/sdk/protocol';
import type { JobsContext, Principal } from '../../jobs/context.js';
import { recordToolCall } from '../../jobs/record-tool-call.js';
import { prepareInputRequest, requestInputWithState } from '../../jobs/request-input.js';
import type { Interaction, SavedConversation } from './agent-loop.js';
import type { OutputStream } from './output-stream.js';
import type { RunLease } from './run-lease.js';
import { errorText, toolError, type JobTools } from './tools.js';

/** What a run's interaction acts through. */
export interface InteractionScope {
  ctx: JobsContext;
  principal: Principal;
  job: Job;
  leaseToken: string;
  lease: RunLease;
  tools: JobTools;
  output: OutputStream;
}

/**
 * The model runtime's side of SPEC §9, through the same use cases a worker reaches over HTTP: the job's messages
 * (from the claim, then from heartbeats) become user turns; the model's text goes out as output; `ask_user` and
 * tools that need approval open an input request that stores the conversation with it, and end the run.
 */
export class JobInteraction implements Interaction {
  private readonly inbox: JobMessage[];

  /** `claimed` are the messages of the claim; the first `seen` of them are in the conversation already. */
  constructor(
    private readonly scope: InteractionScope,
    claimed: JobMessage[],
    seen: number,
  ) {
    this.inbox = claimed.slice(seen);
  }

  takeMessages(): JobMessage[] {
    return [...this.inbox.splice(0), ...this.scope.lease.takeMessages()];
  }

  output(delta: string): void {
    this.scope.output.push(delta);
  }

  async ask(call: ChatCompletionMessageFunctionToolCall, conversation: SavedConversation): Promise<string | null> {
    const { ctx, principal, job, leaseToken, lease, output } = this.scope;
    // What the model said before it asked is part of what the person reads.
    await output.flush();
    const state = JSON.stringify(conversation);
    try {
      if (call.function.name === 'ask_user') {
        const args = parseObject(call.function.arguments);
        if (typeof args?.question !== 'string' || args.question === '') {
          return errorText('invalid_arguments', 'ask_user needs "question": the text to ask, complete enough to answer on its own.');
        }
        const schema = args.input_schema;
        const spec = prepareInputRequest(ctx.validators, ctx.limits, {
          prompt: args.question.slice(0, 65_536),
          ...(schema && typeof schema === 'object' ? { input_schema: schema as Record<string, unknown> } : {}),
        });
        await requestInputWithState(ctx, principal, job.id, leaseToken, { ...spec, runtimeState: state });
      } else {
        const outcome = await recordToolCall(
          ctx,
          principal,
          job.id,
          { lease_token: leaseToken, tool: call.function.name, input: parseObject(call.function.arguments) ?? call.function.arguments },
          state,
        );
        if (outcome.status !== 202) throw new Error(`the call of ${call.function.name} was expected to wait for an approval`);
      }
    } catch (error) {
      // A schema the model got wrong, say: it hears why and may ask again. A lost lease or a cancel ends the run.
      return toolError(error);
    }
    lease.stop('waiting');
    return null;
  }

  async answer(pending: SavedConversation['pending'], request: InputRequest): Promise<string> {
    if (pending.name === 'ask_user') return JSON.stringify(request.input);
    const call: ChatCompletionMessageFunctionToolCall = { id: pending.id, type: 'function', function: { name: pending.name, arguments: pending.arguments } };
    return this.scope.tools.runApproved(call, request.id);
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

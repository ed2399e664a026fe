import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type {
  ChatCompletionFunctionTool,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageToolCall,
  ChatCompletionToolMessageParam,
} from 'openai/resources/chat/completions';
import { Brief, type Constraints, Id, type Job } from '@agentjobs/sdk/protocol';
import { isTerminal, toolAllowed, toolNeedsApproval } from '../../domain/job-rules.js';
import { JobsError } from '../../domain/jobs-error.js';
import { byteLength, stableStringify } from '../../domain/json.js';
import type { JobsContext, Principal } from '../../jobs/context.js';
import { listAgentsJson } from '../../jobs/agents.js';
import { describeAll } from '../../domain/schema-errors.js';
import { dispatchSubjob } from '../../jobs/dispatch-job.js';
import { recordToolCall } from '../../jobs/record-tool-call.js';
import { waitForSubjob } from '../../jobs/subjob-handles.js';

/** The tools the model runtime offers, by name (`ask_user` only to agents that set `"ask_user": true`). */
export const BUILT_IN_TOOLS = ['dispatch_subjob', 'list_agents', 'ask_user'] as const;
type BuiltInTool = (typeof BUILT_IN_TOOLS)[number];

/**
 * Arguments of `dispatch_subjob`: the parts of the protocol's `Brief` plus the agent. Built from the same
 * schemas that validate `POST /v1/jobs`, so the model is offered exactly what the API accepts, and the
 * model's arguments are checked against it before anything is dispatched (the model is an edge too).
 */
const DispatchSubjobArgs = Type.Object(
  {
    agent_id: Id('agent', 'The agent to delegate to: an id from list_agents.'),
    objective: Type.String({ minLength: 1, description: 'What the other agent should accomplish.' }),
    context: Type.Optional(Type.String({ description: 'Background the other agent needs (it sees nothing else of this job).' })),
    output_schema: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'A JSON Schema its result must match, when you need structured data back.' }),
    ),
    constraints: Type.Optional(Brief.properties.constraints),
  },
  { additionalProperties: false },
);
// A plain JSON copy: TypeBox schemas carry symbol keys that neither the provider nor the cache key needs.
const DISPATCH_ARGS_SCHEMA = JSON.parse(JSON.stringify(DispatchSubjobArgs)) as Record<string, unknown>;
const DISPATCH_ARGS_TEXT = JSON.stringify(DISPATCH_ARGS_SCHEMA);

const DEFINITIONS: Record<BuiltInTool, ChatCompletionFunctionTool> = {
  dispatch_subjob: {
    type: 'function',
    function: {
      name: 'dispatch_subjob',
      description:
        'Delegate part of the work to another agent as a subjob, and wait for it to finish. Returns the subjob\'s result as JSON, or an error text when it failed. Several calls in one turn run in parallel.',
      parameters: DISPATCH_ARGS_SCHEMA,
    },
  },
  list_agents: {
    type: 'function',
    function: {
      name: 'list_agents',
      description: 'List the agents you can delegate to with dispatch_subjob: their id, name and description.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
  },
  ask_user: {
    type: 'function',
    function: {
      name: 'ask_user',
      description:
        'Ask the person responsible for this job a question, and wait for the answer (it may take hours). Use it for a decision or information only they have. Returns their answer as JSON. Ask one question at a time.',
      parameters: {
        type: 'object',
        properties: {
          question: { type: 'string', description: 'The question, complete enough to answer without other context.' },
          input_schema: { type: 'object', description: 'Optional: a JSON Schema the answer must match (e.g. an enum of choices).' },
        },
        required: ['question'],
        additionalProperties: false,
      },
    },
  },
};

/** Largest tool input kept in a `job.tool_call` event; bigger inputs are summarised (the brief is in the subjob). */
const MAX_EVENT_INPUT_BYTES = 16 * 1024;
/** How long one look at a subjob waits before looking again (the use case's long-poll bound). */
const SUBJOB_WAIT_SECONDS = 25;
/** Most agents `list_agents` returns. */
const MAX_LISTED_AGENTS = 500;

/**
 * The tool definitions the brief allows (`allowed_tools` / `denied_tools`); a tool not allowed is never offered.
 * `ask_user` is offered only when the agent enables it.
 */
export function offeredTools(constraints: Constraints | undefined, askUser = false): ChatCompletionFunctionTool[] {
  return BUILT_IN_TOOLS.filter((name) => (name !== 'ask_user' || askUser) && toolAllowed(constraints, name)).map((name) => DEFINITIONS[name]);
}

/**
 * True for a call the run cannot make on its own: `ask_user`, or a tool the brief lets through only with a
 * person's approval. Such a call makes the job wait.
 */
export function waitsForPerson(constraints: Constraints | undefined, name: string): boolean {
  return name === 'ask_user' || (toolAllowed(constraints, name) && toolNeedsApproval(constraints, name));
}

/** The job a run's tools act for: they use the worker use cases under the run's lease. */
export interface ToolScope {
  readonly ctx: JobsContext;
  readonly principal: Principal;
  readonly job: Job;
  readonly leaseToken: string;
  /** Aborted when the run stops: waits for subjobs end at once. */
  readonly signal: AbortSignal;
  /** The agent offers `ask_user`. */
  readonly askUser: boolean;
  /** Subjobs dispatched before a wait, when the run goes on after one. */
  readonly dispatches?: number;
}

/**
 * Runs the model's tool calls for one job. Every call is reported through `recordToolCall` first (an event of
 * the job, refused when the brief does not allow the tool), in the order the model made them; then the calls
 * run in parallel, so a model that fans out to several agents in one turn waits for the slowest, not the sum.
 */
export class JobTools {
  private dispatches: number;

  constructor(private readonly scope: ToolScope) {
    this.dispatches = scope.dispatches ?? 0;
  }

  /** Subjobs dispatched by this run and the runs before a wait: the next one's idempotency key counts on from it. */
  get dispatchCount(): number {
    return this.dispatches;
  }

  /**
   * Runs the calls of one turn: one tool message per call the run makes itself, in the calls' order. Errors the
   * model can act on come back as text. A call that needs a person (`ask_user`, a tool that needs approval) is
   * not made: the first such call is returned as `wait`, for the run to ask and wait; any other is answered
   * with an error asking the model to try again after the answer.
   */
  async run(calls: ChatCompletionMessageToolCall[]): Promise<{ messages: ChatCompletionToolMessageParam[]; wait: ChatCompletionMessageFunctionToolCall | null }> {
    const constraints = this.scope.job.brief.constraints;
    const offered = new Set(offeredTools(constraints, this.scope.askUser).map((t) => t.function.name));
    let wait: ChatCompletionMessageFunctionToolCall | null = null;
    const pending: Array<Promise<string> | null> = [];
    for (const call of calls) {
      if (call.type === 'function' && offered.has(call.function.name) && waitsForPerson(constraints, call.function.name)) {
        if (wait) pending.push(Promise.resolve(errorText('one_at_a_time', 'Only one question or approval can wait at a time; make this call again once the first is answered.')));
        else {
          wait = call;
          pending.push(null);
        }
        continue;
      }
      const { outcome } = await this.start(call);
      // Observed by Promise.all below; without a handler now, a call that fails while later calls are still
      // being reported would count as an unhandled rejection.
      outcome.catch(() => {});
      pending.push(outcome);
    }
    const contents = await Promise.all(pending);
    const messages: ChatCompletionToolMessageParam[] = [];
    calls.forEach((call, i) => {
      if (contents[i] != null) messages.push({ role: 'tool', tool_call_id: call.id, content: contents[i]! });
    });
    return { messages, wait };
  }

  /**
   * Makes a call that waited for a person's approval, once answered: reported again with its approval request,
   * it runs when approved; a denial comes back as the refusal's text.
   */
  async runApproved(call: ChatCompletionMessageFunctionToolCall, approvalRequestId: string): Promise<string> {
    const { outcome } = await this.start(call, approvalRequestId);
    return outcome;
  }

  /**
   * Reports the call and starts it. Resolves once the report is committed (so events keep the model's order),
   * to the call's outcome, which is still running then (wrapped: an async function cannot resolve to a promise).
   */
  private async start(call: ChatCompletionMessageToolCall, approvalRequestId?: string): Promise<{ outcome: Promise<string> }> {
    const done = (text: string) => ({ outcome: Promise.resolve(text) });
    if (call.type !== 'function') return done(errorText('unknown_tool', `Only function tools are offered; '${call.type}' tools are not.`));
    const name = call.function.name;
    const args = parseArguments(call.function.arguments);
    const { ctx, principal, job, leaseToken } = this.scope;
    try {
      await recordToolCall(ctx, principal, job.id, {
        lease_token: leaseToken,
        tool: name,
        input: eventInput(args, call.function.arguments),
        ...(approvalRequestId ? { approval_request_id: approvalRequestId } : {}),
      });
    } catch (error) {
      return done(toolError(error));
    }
    if (!args.ok) return done(errorText('invalid_arguments', `The arguments are not a JSON object: ${args.error}`));
    if (name === 'dispatch_subjob') return { outcome: this.guard(this.dispatchSubjob(args.value, this.dispatches++)) };
    if (name === 'list_agents') return { outcome: this.guard(this.listAgents()) };
    const offered = offeredTools(job.brief.constraints, this.scope.askUser).map((t) => t.function.name);
    return done(errorText('unknown_tool', `There is no tool named '${name}'. The tools are: ${offered.join(', ') || 'none'}.`));
  }


  /** Turns errors the model can act on into text; a lost lease or a cancel stops the run instead. */
  private async guard(work: Promise<string>): Promise<string> {
    try {
      return await work;
    } catch (error) {
      return toolError(error);
    }
  }

  private async dispatchSubjob(args: Record<string, unknown>, index: number): Promise<string> {
    const { ctx, principal, job, leaseToken, signal } = this.scope;
    const errors = ctx.validators.check(DISPATCH_ARGS_TEXT, args);
    if (errors) {
      const list = describeAll(errors, 'arguments').slice(0, 5).join('; ');
      return errorText('invalid_arguments', `The arguments do not match the tool's schema: ${list}.`);
    }
    const { agent_id: agentId, ...brief } = args as { agent_id: string } & Job['brief'];
    const request = { agent_id: agentId, brief };
    // The same call (by position and content) in a later attempt of this job gets the same subjob back instead
    // of dispatching it twice; a different call at that position gets a new one.
    const fingerprint = createHash('sha256').update(stableStringify(request)).digest('base64url').slice(0, 22);
    const dispatched = await dispatchSubjob(ctx, principal, job.id, { lease_token: leaseToken, ...request }, `model:${index}:${fingerprint}`);
    const childId = (JSON.parse(dispatched.body) as { id: string }).id;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const child = JSON.parse(await waitForSubjob(ctx, principal, job.id, childId, leaseToken, SUBJOB_WAIT_SECONDS, signal)) as Job;
      if (signal.aborted) throw signal.reason;
      if (!isTerminal(child.status)) continue;
      if (child.status === 'completed') {
        return JSON.stringify({ subjob_id: child.id, status: 'completed', result: child.result, tokens_used: child.tokens_used });
      }
      const why = child.error ? `${child.error.code}: ${child.error.message}` : 'no error given';
      return errorText('subjob_failed', `Subjob ${child.id} (agent ${child.agent_id}) ${child.status}: ${why}`);
    }
  }

  private async listAgents(): Promise<string> {
    const { ctx, principal } = this.scope;
    const agents: Array<{ id: string; name: string; description: string | null }> = [];
    let cursor: string | undefined;
    do {
      const page = JSON.parse(await listAgentsJson(ctx, principal, { limit: 100, cursor })) as {
        data: Array<{ id: string; name: string; description: string | null }>;
        next_cursor: string | null;
      };
      for (const agent of page.data) agents.push({ id: agent.id, name: agent.name, description: agent.description });
      cursor = page.next_cursor ?? undefined;
    } while (cursor && agents.length < MAX_LISTED_AGENTS);
    return JSON.stringify({ agents });
  }
}

type ParsedArguments = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

function parseArguments(text: string): ParsedArguments {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
    return { ok: false, error: 'expected an object' };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

function eventInput(args: ParsedArguments, raw: string): unknown {
  const size = byteLength(raw);
  if (size > MAX_EVENT_INPUT_BYTES) return { omitted: `arguments of ${size} bytes` };
  return args.ok ? args.value : { unparsed: raw };
}

/** The text a failed tool call answers the model with. */
export function errorText(code: string, message: string): string {
  return `Error (${code}): ${message}`;
}

/** A tool's error as text for the model; a lost lease, a cancel or a stop is rethrown to end the run. */
export function toolError(error: unknown): string {
  if (error instanceof JobsError) {
    if (error.code === 'lease_lost' || error.code === 'cancel_requested') throw error;
    return errorText(error.code, error.message);
  }
  throw error;
}

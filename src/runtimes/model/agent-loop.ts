import type { Static } from '@sinclair/typebox';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionFunctionTool,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { type InputRequest, type Job, JOB_ERROR_CODES, type JobMessage, type ModelRuntime } from '@agentjobs/sdk/protocol';
import { describeAll } from '../../domain/schema-errors.js';
import type { SchemaValidators } from '../../jobs/schema-validators.js';
import { ModelRunError } from './errors.js';
import type { ModelProvider } from './provider.js';
import { parseJsonReply, responseFormatFor } from './structured-output.js';
import { offeredTools, type JobTools } from './tools.js';

/** An agent's `{"type": "model", …}` runtime. */
export type ModelRuntimeConfig = Static<typeof ModelRuntime>;

/** Model calls per run when the runtime sets no `max_turns` (the protocol's documented default). */
export const DEFAULT_MAX_TURNS = 20;

/**
 * A run's conversation as it is stored beside the question it waits on (the input request's private state): all
 * the run needs to go on after the answer, in any process, after any restart.
 */
export interface SavedConversation {
  v: 1;
  messages: ChatCompletionMessageParam[];
  /** Model calls made so far. */
  turn: number;
  corrections: number;
  /** How many of the job's messages are in the conversation already. */
  messagesSeen: number;
  /** Subjobs dispatched so far (their idempotency keys go on counting from here). */
  dispatches: number;
  /** The tool call that waits for the answer (`ask_user`, or a tool that needed approval). */
  pending: { id: string; name: string; arguments: string };
}

/** How a run meets people: messages sent to the job, output as it streams, questions and their answers. */
export interface Interaction {
  /** Messages sent to the job that the conversation has not had yet, oldest first. */
  takeMessages(): JobMessage[];
  /** Text of the assistant, as it streams from the model. */
  output(delta: string): void;
  /**
   * Makes the job wait for a person about `call`, storing `conversation` with the request. Resolves to null once
   * the request is made (the run's signal aborts: the lease ended with it), or to a tool message to go on with
   * when the request could not be made (a bad input_schema from the model, say).
   */
  ask(call: ChatCompletionMessageFunctionToolCall, conversation: SavedConversation): Promise<string | null>;
  /** After the answer: the tool message of the call that waited (the answer, or the approved call's result). */
  answer(call: SavedConversation['pending'], request: InputRequest): Promise<string>;
}

/** What one run of the agent loop needs. */
export interface AgentLoopInput {
  job: Job;
  agent: { id: string; name: string };
  runtime: ModelRuntimeConfig;
  provider: ModelProvider;
  tools: JobTools;
  interaction: Interaction;
  /** A conversation that waited for a person, and the answered request: the run goes on from there. */
  resume?: { conversation: SavedConversation; request: InputRequest };
  /** The server's output-schema validators: the same Ajv check `completeJob` makes. */
  validators: SchemaValidators;
  /** Times the model may correct a result that does not match the output schema. */
  maxCorrections: number;
  /**
   * Reports the run's running total of tokens, with a word on what happens next, before the run goes on; it
   * rejects when the run must stop (the report crossed the token budget, a cancel was requested, the lease is
   * gone). Awaited after every model call, so a budget is enforced before the next call can start.
   */
  report(tokensUsed: number, next: string): Promise<void>;
  signal: AbortSignal;
}

/**
 * Runs a job through the model: the brief becomes a system and a user message; the model is called until it
 * answers without tool calls; tool calls are run and their results sent back; messages sent to the job join
 * the conversation as user turns; the assistant's text streams out as the job's output. A call that needs a
 * person (`ask_user`, a tool that needs approval) saves the conversation with the request and ends the run; the
 * run after the answer (`resume`) goes on from there. A final answer is parsed (JSON when the brief has an
 * `output_schema`, else `{"text": …}`) and validated with the server's validator, and the validator's errors
 * are sent back for the model to correct itself, a bounded number of times. Resolves to the result; rejects with
 * a {@link ModelRunError} when the run cannot succeed, or with the signal's reason when it was stopped.
 */
export async function runAgentLoop(input: AgentLoopInput): Promise<unknown> {
  const { job, runtime, provider, signal } = input;
  const schema = job.brief.output_schema;
  const schemaText = schema ? JSON.stringify(schema) : null;
  const tools = offeredTools(job.brief.constraints, runtime.ask_user === true);
  const request: Omit<ChatCompletionCreateParamsNonStreaming, 'messages'> = {
    model: runtime.model,
    ...(tools.length > 0 ? { tools } : {}),
    ...(schema ? { response_format: responseFormatFor(schema) } : {}),
    ...(runtime.temperature !== undefined ? { temperature: runtime.temperature } : {}),
  };
  const maxTurns = runtime.max_turns ?? DEFAULT_MAX_TURNS;
  const state = input.resume ? await resumed(input) : { messages: buildMessages(job, input.agent, runtime, tools), turn: 0, corrections: 0, messagesSeen: 0 };
  const { messages } = state;
  let { corrections, messagesSeen } = state;
  // The job's own total so far: a run after a wait goes on counting from what the runs before it reported.
  let tokens = job.tokens_used_self;

  for (let turn = state.turn + 1; turn <= maxTurns; turn++) {
    signal.throwIfAborted();
    const arrived = input.interaction.takeMessages();
    messages.push(...arrived.map(userTurn));
    messagesSeen += arrived.length;
    const completion = await provider.complete({ ...request, messages: [...messages] }, signal, (delta) => input.interaction.output(delta));
    tokens += completion.usage?.total_tokens ?? 0;
    const message = completion.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    await input.report(tokens, calls.length > 0 ? `turn ${turn}: calling ${calls.map(toolName).join(', ')}` : `turn ${turn}: final answer`);
    if (!message) throw new ModelRunError(JOB_ERROR_CODES.modelProviderError, 'The model provider answered without any choice.');

    if (calls.length > 0) {
      messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: calls });
      const ran = await input.tools.run(calls);
      messages.push(...ran.messages);
      if (ran.wait) {
        const { id, function: fn } = ran.wait;
        const conversation: SavedConversation = {
          v: 1,
          messages,
          turn,
          corrections,
          messagesSeen,
          dispatches: input.tools.dispatchCount,
          pending: { id, name: fn.name, arguments: fn.arguments },
        };
        const refused = await input.interaction.ask(ran.wait, conversation);
        signal.throwIfAborted();
        messages.push({ role: 'tool', tool_call_id: id, content: refused ?? '' });
      }
      continue;
    }
    if (message.refusal) throw new ModelRunError(JOB_ERROR_CODES.modelRefused, `The model refused: ${message.refusal}`);
    const content = message.content ?? '';
    if (!schemaText) return { text: content };

    const parsed = parseJsonReply(content);
    const errors = parsed.ok ? input.validators.check(schemaText, parsed.value) : null;
    if (parsed.ok && !errors) return parsed.value;

    const found = parsed.ok
      ? describeAll(errors!, 'result').slice(0, 20)
      : [`not valid JSON (${parsed.error})`];
    if (corrections >= input.maxCorrections) {
      throw new ModelRunError(
        JOB_ERROR_CODES.outputSchemaMismatch,
        `The model's result does not match brief.output_schema (${found.slice(0, 3).join('; ')}) after ${corrections} correction(s).`,
        { details: errors?.map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message, params: e.params })) },
      );
    }
    corrections++;
    messages.push({ role: 'assistant', content });
    const problem = parsed.ok ? `does not match the output schema:\n${found.map((line) => `- ${line}`).join('\n')}` : `is ${found[0]}.`;
    messages.push({ role: 'user', content: `Your answer ${problem}\nReply again with only the corrected JSON value, nothing else.` });
  }
  throw new ModelRunError(
    JOB_ERROR_CODES.modelMaxTurns,
    `The model made ${maxTurns} calls (the agent's runtime.max_turns) without a final answer.`,
  );
}

/** The conversation of a run that waited, with the answer (or the approved call's result) added. */
async function resumed(input: AgentLoopInput) {
  const { conversation, request } = input.resume!;
  const messages = [...conversation.messages];
  messages.push({ role: 'tool', tool_call_id: conversation.pending.id, content: await input.interaction.answer(conversation.pending, request) });
  return { messages, turn: conversation.turn, corrections: conversation.corrections, messagesSeen: conversation.messagesSeen };
}

/** A message sent to the job, as a user turn of the conversation. */
function userTurn(message: JobMessage): ChatCompletionMessageParam {
  return { role: 'user', content: typeof message.content === 'string' ? message.content : JSON.stringify(message.content) };
}

/**
 * The conversation a run starts with. System: the agent's instructions, then a short description of the job
 * protocol (what the brief's parts mean, the tools, the expected form of the answer). User: the brief's
 * objective, context and constraints as JSON. docs/model-agents.md shows both.
 */
export function buildMessages(
  job: Job,
  agent: { id: string; name: string },
  runtime: ModelRuntimeConfig,
  tools: ChatCompletionFunctionTool[],
): ChatCompletionMessageParam[] {
  const { objective, context, constraints, output_schema: schema } = job.brief;
  const protocol = [
    `You are the agent "${agent.name}" (${agent.id}), running a job for agentjobs.`,
    'The user message is the job\'s brief as JSON: "objective" is what to accomplish, "context" is background, and ' +
      '"constraints" are limits set by whoever dispatched the job; keep to them.',
  ];
  if (tools.length > 0) {
    const names = tools.map((t) => t.function.name);
    protocol.push(
      `You may call these tools: ${names.join(', ')}.` +
        (names.includes('dispatch_subjob') ? ' dispatch_subjob hands part of the work to another agent and returns its result once it has finished.' : '') +
        (names.includes('list_agents') ? ' list_agents shows the agents you can delegate to.' : '') +
        (names.includes('ask_user') ? ' ask_user asks the person responsible for the job and waits for the answer.' : ''),
    );
  }
  protocol.push(
    schema
      ? `Your final message must be only a JSON value matching this JSON Schema, with no other text:\n${JSON.stringify(schema)}`
      : 'Your final message is the result of the job.',
  );
  const system = [runtime.instructions?.trim(), protocol.join('\n')].filter(Boolean).join('\n\n');
  const brief = { objective, ...(context !== undefined ? { context } : {}), ...(constraints !== undefined ? { constraints } : {}) };
  return [
    { role: 'system', content: system },
    { role: 'user', content: JSON.stringify(brief, null, 2) },
  ];
}

function toolName(call: { type: string; function?: { name: string } }): string {
  return call.function?.name ?? call.type;
}

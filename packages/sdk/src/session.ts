import type { ArtifactView, InputRequest, Job, JobMessage } from './protocol/index.js';
import { AgentJobsError, request, type Transport } from './http.js';
import { ReplayMismatchError, ToolNotAllowedError, ToolNotApprovedError, WaitingForInputError } from './worker-errors.js';

/** An artifact to store: its name, media type, and its content as text, JSON data or bytes. */
export type ArtifactInput = { name: string; mediaType: string } & ({ text: string } | { data: unknown } | { bytes: Uint8Array });

/** Options of `ctx.ask`. */
export interface AskOptions {
  /** A JSON Schema the answer must match (the server refuses other answers with 422). */
  schema?: Record<string, unknown>;
  /** Unanswered this long, the job fails with `input_timeout`. */
  timeoutSeconds?: number;
}

/** What the session tells the run it belongs to. */
export interface SessionHooks {
  /** The job now waits for a person: the run must end (its signal aborts with `error`). */
  waiting(error: WaitingForInputError): void;
  /** The server said the lease is gone. */
  leaseLost(): void;
  /** Sends what the run reported (tokens, progress) before a question spends the lease. */
  beforeQuestion(): Promise<void>;
  onError(error: unknown): void;
}

/** Gap during which output deltas gather into one request. */
const OUTPUT_GATHER_MS = 50;

/**
 * One run of a handler's dealings with people and with what it shows (SPEC §9): questions and approvals replayed
 * from the claim's `inputs` in order, messages from the claim and the heartbeats, output deltas (gathered, in
 * order, silent while replaying) and artifacts (idempotent by their order in the run).
 */
export class JobSession {
  private step = 0;
  private artifacts = 0;
  private readonly received: JobMessage[];
  private readonly wakers = new Set<() => void>();
  private ended = false;
  private outputQueue: Array<{ stream: string; delta: string }> = [];
  private outputTimer: ReturnType<typeof setTimeout> | null = null;
  private sending: Promise<void> = Promise.resolve();
  private readonly base: string;

  constructor(
    private readonly transport: Transport,
    private readonly job: Job,
    private readonly leaseToken: string,
    private readonly recorded: readonly InputRequest[],
    messages: readonly JobMessage[],
    private readonly hooks: SessionHooks,
  ) {
    this.received = [...messages];
    this.base = `/v1/jobs/${encodeURIComponent(job.id)}`;
  }

  /** True until the handler has passed the last question the runs before it had answered. */
  get replaying(): boolean {
    return this.step < this.recorded.length;
  }

  /** The job's input requests with their answers, oldest first, as the claim handed them. */
  get inputs(): readonly InputRequest[] {
    return this.recorded;
  }

  async ask<T>(prompt: string, options: AskOptions = {}): Promise<T> {
    const recorded = this.next('input', null);
    if (recorded) return recorded.input as T;
    const body = {
      lease_token: this.leaseToken,
      prompt,
      ...(options.schema ? { input_schema: options.schema } : {}),
      ...(options.timeoutSeconds ? { timeout_seconds: options.timeoutSeconds } : {}),
    };
    return this.wait(await this.post<{ request: InputRequest }>('input-requests', body, true));
  }

  async requestApproval(tool: string, input?: unknown, options: { prompt?: string; timeoutSeconds?: number } = {}): Promise<{ approved: boolean; note?: string }> {
    const recorded = this.next('approval', tool);
    if (recorded) return recorded.input as { approved: boolean; note?: string };
    const body = {
      lease_token: this.leaseToken,
      kind: 'approval',
      prompt: options.prompt ?? `Allow job ${this.job.id} to use '${tool}'?`,
      tool,
      ...(input !== undefined ? { tool_input: input } : {}),
      ...(options.timeoutSeconds ? { timeout_seconds: options.timeoutSeconds } : {}),
    };
    return this.wait(await this.post<{ request: InputRequest }>('input-requests', body, true));
  }

  /**
   * Reports a tool call before it is made. A tool in `approval_required_tools` is a question like `ask`: the first
   * run asks for approval and ends; the run after the answer reports the call with its approval, and goes on —
   * or gets {@link ToolNotApprovedError}.
   */
  async toolCall(tool: string, input?: unknown): Promise<void> {
    const gated = this.job.brief.constraints?.approval_required_tools?.includes(tool) ?? false;
    const recorded = gated ? this.next('approval', tool) : null;
    const body = { lease_token: this.leaseToken, tool, ...(input !== undefined ? { input } : {}), ...(recorded ? { approval_request_id: recorded.id } : {}) };
    let answer: { status?: string; request?: InputRequest };
    try {
      answer = await this.post('tool-calls', body, gated && !recorded);
    } catch (error) {
      if (error instanceof AgentJobsError && error.code === 'tool_not_allowed') throw new ToolNotAllowedError(tool, error.message);
      if (error instanceof AgentJobsError && error.code === 'tool_not_approved') {
        throw new ToolNotApprovedError(tool, error.message, (recorded?.input as { note?: string } | undefined)?.note ?? null);
      }
      throw error;
    }
    if (answer.status === 'pending_approval') {
      // The server asked for approval where this run did not expect it: it is a question all the same.
      if (!gated) this.step++;
      this.wait(answer as { request: InputRequest });
    }
  }

  /** The job's messages: those of the claim first, then each one a heartbeat brings, until the run ends. */
  get messages(): AsyncIterable<JobMessage> {
    return {
      [Symbol.asyncIterator]: () => {
        let index = 0;
        return {
          next: async (): Promise<IteratorResult<JobMessage>> => {
            while (index >= this.received.length) {
              if (this.ended) return { done: true, value: undefined };
              await new Promise<void>((resolve) => this.wakers.add(resolve));
            }
            return { done: false, value: this.received[index++] };
          },
          return: async (): Promise<IteratorResult<JobMessage>> => ({ done: true, value: undefined }),
        };
      },
    };
  }

  /** Messages a heartbeat brought. */
  addMessages(messages: readonly JobMessage[]): void {
    if (messages.length === 0) return;
    this.received.push(...messages);
    this.wake();
  }

  /** Queues output text; nothing while replaying (the run before sent it). */
  output(delta: string, stream = 'default'): void {
    if (this.replaying || delta === '' || this.ended) return;
    const last = this.outputQueue.at(-1);
    if (last && last.stream === stream) last.delta += delta;
    else this.outputQueue.push({ stream, delta });
    this.outputTimer ??= setTimeout(() => this.sendOutput(), OUTPUT_GATHER_MS);
  }

  /** Sends the queued output and waits until every delta is stored. */
  async flush(): Promise<void> {
    this.sendOutput();
    await this.sending;
  }

  async artifact(input: ArtifactInput): Promise<ArtifactView> {
    const content =
      'text' in input ? { text: input.text } : 'data' in input ? { data: input.data } : { base64: Buffer.from(input.bytes).toString('base64') };
    // Keyed by its order in the run: a run again stores each artifact once.
    const key = `${this.job.id}:artifact:${this.artifacts++}`;
    return request<ArtifactView>(this.transport, 'POST', `${this.base}/artifacts`, {
      idempotencyKey: key,
      body: { lease_token: this.leaseToken, name: input.name, media_type: input.mediaType, ...content },
    });
  }

  /** The run is over: message iterators end, queued output is dropped. */
  end(): void {
    this.ended = true;
    if (this.outputTimer) clearTimeout(this.outputTimer);
    this.wake();
  }

  /** The recorded answer of the next question, checked to be the same kind of question; null when it is a new one. */
  private next(kind: InputRequest['kind'], tool: string | null): InputRequest | null {
    const index = this.step++;
    const recorded = this.recorded[index];
    if (!recorded) return null;
    if (recorded.kind !== kind || (kind === 'approval' && recorded.tool !== tool && recorded.tool !== null)) {
      const asked = kind === 'approval' ? `an approval of '${tool}'` : 'an input';
      const was = recorded.kind === 'approval' ? `an approval of '${recorded.tool}'` : 'an input';
      throw new ReplayMismatchError(
        `Question ${index + 1} of this run is ${asked}, but the run before asked for ${was} there: a handler must ask the same questions in the same order when it runs again.`,
      );
    }
    return recorded;
  }

  /** The job waits for `request` now: end the run. */
  private wait(answer: { request: InputRequest }): never {
    const error = new WaitingForInputError(this.job.id, answer.request);
    this.hooks.waiting(error);
    throw error;
  }

  /** Posts to the job; before a question (`asks`), what the run wrote and reported goes out first. */
  private async post<T>(path: string, body: unknown, asks: boolean): Promise<T> {
    // What the run said before it asked is part of what the person reads; its tokens count.
    if (asks) {
      await this.flush();
      await this.hooks.beforeQuestion();
    }
    try {
      return await request<T>(this.transport, 'POST', `${this.base}/${path}`, { body });
    } catch (error) {
      if (error instanceof AgentJobsError && error.code === 'lease_lost') this.hooks.leaseLost();
      throw error;
    }
  }

  private sendOutput(): void {
    if (this.outputTimer) clearTimeout(this.outputTimer);
    this.outputTimer = null;
    const batch = this.outputQueue;
    this.outputQueue = [];
    for (const { stream, delta } of batch) {
      this.sending = this.sending.then(async () => {
        try {
          await request(this.transport, 'POST', `${this.base}/output`, { body: { lease_token: this.leaseToken, delta, ...(stream !== 'default' ? { stream } : {}) } });
        } catch (error) {
          if (error instanceof AgentJobsError && error.code === 'lease_lost') this.hooks.leaseLost();
          else this.hooks.onError(error);
        }
      });
    }
  }

  private wake(): void {
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }
}

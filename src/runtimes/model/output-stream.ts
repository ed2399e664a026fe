import type { Logger } from 'pino';
import type { JobsContext, Principal } from '../../jobs/context.js';
import { recordOutput } from '../../jobs/job-output.js';

/** How long text gathers before it is recorded: a model streams many small pieces a second. */
const GATHER_MS = 100;

/**
 * The model's text as the job's output (SPEC §9.3), through the same use case a worker's `POST …/output` reaches.
 * Pieces that arrive within {@link GATHER_MS} are recorded as one delta, in order, one write at a time. Output is
 * what people watch, not the job's result: a write that fails is logged and the run goes on.
 */
export class OutputStream {
  private buffer = '';
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: JobsContext,
    private readonly principal: Principal,
    private readonly jobId: string,
    private readonly leaseToken: string,
    private readonly log: Logger,
  ) {}

  /** Adds text; it is recorded within {@link GATHER_MS}. */
  push(delta: string): void {
    this.buffer += delta;
    this.timer ??= setTimeout(() => this.send(), GATHER_MS);
  }

  /** Records what was pushed and waits until every delta is stored (before a complete, or a question). */
  async flush(): Promise<void> {
    this.send();
    await this.sending;
  }

  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const delta = this.buffer;
    this.buffer = '';
    if (delta === '') return;
    this.sending = this.sending.then(async () => {
      try {
        await recordOutput(this.ctx, this.principal, this.jobId, { lease_token: this.leaseToken, delta });
      } catch (error) {
        this.log.warn({ err: error, job_id: this.jobId }, 'model runtime: could not record output');
      }
    });
  }
}

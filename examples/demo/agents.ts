/**
 * The demo's agents: plain handlers for `runWorker`, standing in for real model-backed agents. They sleep
 * instead of thinking, but speak the worker protocol exactly as a real agent would: progress, token reports,
 * tool calls, subjobs, a failure that is retried.
 */
import type { Job, JobContext } from '@agentjobs/sdk/worker';

/** Agent ids the coordinator fans out to. */
export interface Specialists {
  researcher: string;
  analyst: string;
  writer: string;
}

/** What a specialist answers. */
export interface Finding {
  topic: string;
  points: string[];
}

const FINDING_SCHEMA = {
  type: 'object',
  properties: { topic: { type: 'string' }, points: { type: 'array', items: { type: 'string' }, minItems: 1 } },
  required: ['topic', 'points'],
};

/** Sleeps, but wakes at once when the job is cancelled (the signal aborts), so cancels are confirmed fast. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** Goes through some steps, reporting progress and tokens as a model-backed agent would. */
async function work(ctx: JobContext, steps: string[], msPerStep: number, tokensPerStep: number): Promise<void> {
  for (const [i, step] of steps.entries()) {
    ctx.progress(Math.round(((i + 1) / (steps.length + 1)) * 100), step);
    ctx.reportTokens(tokensPerStep);
    await pause(msPerStep, ctx.signal);
  }
}

/**
 * The coordinator: splits the brief into three research questions, dispatches them to specialists with
 * `ctx.dispatch`, waits for them, has the writer turn the findings into a recommendation, and aggregates.
 */
export function coordinator(specialists: Specialists) {
  return async (job: Job, ctx: JobContext) => {
    ctx.progress(5, 'planning the research');
    ctx.reportTokens(420);
    await pause(600, ctx.signal);
    const subject = job.brief.objective;
    const questions = [
      { agent: specialists.researcher, topic: 'market size and growth' },
      { agent: specialists.researcher, topic: 'main competitors' },
      { agent: specialists.analyst, topic: 'pricing of the competitors' },
    ];
    const handles = await Promise.all(
      questions.map((q) =>
        ctx.dispatch(q.agent, {
          objective: `Research the ${q.topic} for: ${subject}`,
          context: job.brief.context,
          output_schema: FINDING_SCHEMA,
          constraints: { allowed_tools: ['web_search'], max_duration_seconds: 60 },
        }),
      ),
    );
    let done = 0;
    ctx.progress(20, `waiting for ${handles.length} specialists`);
    const findings = await Promise.all(
      handles.map(async (handle) => {
        const finding = await handle.result<Finding>();
        done += 1;
        ctx.progress(20 + done * 15, `${done} of ${handles.length} specialists done`);
        return finding;
      }),
    );
    const writer = await ctx.dispatch(specialists.writer, {
      objective: 'Write a one-paragraph positioning recommendation from these findings.',
      context: JSON.stringify(findings),
      output_schema: { type: 'object', properties: { recommendation: { type: 'string' } }, required: ['recommendation'] },
    });
    ctx.progress(80, 'the writer is drafting the recommendation');
    const { recommendation } = await writer.result<{ recommendation: string }>();
    ctx.progress(100, 'done');
    ctx.reportTokens(310);
    return { competitors: findings[1].points, findings, recommendation };
  };
}

/** A researcher: searches (a reported tool call), reads, summarises. */
export async function researcher(job: Job, ctx: JobContext): Promise<Finding> {
  const topic = /Research the (.*?) for:/.exec(job.brief.objective)?.[1] ?? 'the question';
  await ctx.toolCall('web_search', { query: topic });
  await work(ctx, ['searching the web', 'reading sources', 'summarising'], 700, 900);
  const points: Record<string, string[]> = {
    'market size and growth': ['The segment grows about 12 % a year', 'Small agencies are the fastest-growing buyers'],
    'main competitors': ['Asana', 'Monday.com', 'ClickUp', 'Teamwork'],
  };
  return { topic, points: points[topic] ?? [`Nothing surprising about ${topic}`] };
}

/**
 * The analyst fails its first attempt (a flaky price feed). A plain `throw` is retryable: the server puts the
 * job back in the queue and a worker runs it again with `ctx.attempt === 2`, which succeeds.
 */
export async function analyst(job: Job, ctx: JobContext): Promise<Finding> {
  if (ctx.attempt === 1) {
    await work(ctx, ['downloading competitor price lists'], 800, 300);
    throw new Error('the price feed timed out (simulated): the server will queue this job again');
  }
  await work(ctx, ['downloading competitor price lists', 'normalising plans per seat'], 700, 650);
  return { topic: 'pricing of the competitors', points: ['Per-seat prices cluster at $10–$12', 'Agencies pay for client portals'] };
}

/** The writer turns findings into a recommendation. */
export async function writer(job: Job, ctx: JobContext): Promise<{ recommendation: string }> {
  const findings = JSON.parse(job.brief.context ?? '[]') as Finding[];
  await work(ctx, ['outlining', 'drafting'], 600, 1200);
  const competitors = findings.find((f) => f.topic === 'main competitors')?.points.join(', ') ?? 'the incumbents';
  return {
    recommendation:
      `Position Acme as the project tool built for client work: unlike ${competitors}, ` +
      'bundle client portals and per-project billing at the common per-seat price.',
  };
}

import { Command } from 'commander';
import type { InputRequest, Job } from '@agentjobs/sdk/client';
import { AgentNames, runClient, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { CliError, EXIT } from './exit-codes.js';
import { formatAgo, formatTime, headline, table } from './format.js';
import { readTextArgument } from './inputs.js';
import type { Io } from './io.js';

/** Most waiting jobs `inbox` reads (a page each of 100). */
const INBOX_MAX = 1000;

/**
 * The commands of interactive jobs (docs/interactive-jobs.md): `inbox` (what waits for a person), `answer`,
 * `approve`, `deny` (answer a job's pending request) and `send` (a message into a running job).
 */
export function interactiveCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('inbox')
      .description('list the questions waiting for a person: of every job, or of one job tree')
      .argument('[job]', 'only the questions of this job and its subjobs (job_…)'),
  ).action(async (jobId: string | undefined, flags: ClientFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      const requests = jobId ? await treeInbox(ctx, jobId) : await waitingRequests(ctx);
      if (ctx.json) return ctx.printJson({ data: requests });
      if (requests.length === 0) return ctx.note(jobId ? `nothing of ${jobId} waits for a person` : 'nothing waits for a person');
      await printInbox(ctx, requests);
    }),
  );

  withClientOptions(
    program
      .command('answer')
      .description("answer the question a job waits on (the answer must match the request's input_schema)")
      .argument('<job>', 'job id (job_…)')
      .requiredOption('--input <json>', 'the answer as JSON, or @file, or @- for stdin')
      .option('--request <id>', "the request to answer (default: the job's pending one)"),
  ).action(async (jobId: string, flags: ClientFlags & { input: string; request?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const text = await readTextArgument('--input', flags.input, io);
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch (error) {
        throw new CliError(`--input is not valid JSON: ${(error as Error).message} (a text answer is a JSON string: --input '"yes"')`);
      }
      await answer(ctx, jobId, flags.request, input);
    }),
  );

  for (const [name, approved] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    withClientOptions(
      program
        .command(name)
        .description(`${approved ? 'approve' : 'deny'} what a job waits on a person's approval for (a tool call, say)`)
        .argument('<job>', 'job id (job_…)')
        .option('--note <text>', 'a word for the agent, sent with the decision')
        .option('--request <id>', "the approval request (default: the job's pending one)"),
    ).action(async (jobId: string, flags: ClientFlags & { note?: string; request?: string }) =>
      runClient(io, flags, setExit, async (ctx) => {
        await answer(ctx, jobId, flags.request, { approved, ...(flags.note ? { note: flags.note } : {}) }, 'approval');
      }),
    );
  }

  withClientOptions(
    program
      .command('send')
      .description('send a message into a job that has not ended (its worker gets it with its next heartbeat)')
      .argument('<job>', 'job id (job_…)')
      .argument('[text...]', 'the message (or @file, or @- for stdin)')
      .option('--data <json>', 'send a JSON object instead of text (or @file)'),
  ).action(async (jobId: string, words: string[], flags: ClientFlags & { data?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const content = await messageContent(io, words, flags.data);
      const message = await ctx.client.sendMessage(jobId, content);
      if (ctx.json) return ctx.printJson(message);
      ctx.out(`${message.id} sent to ${jobId}`);
    }),
  );
}

/** The pending request of every job that waits for a person, newest job first. */
async function waitingRequests(ctx: ClientContext): Promise<InputRequest[]> {
  const jobs: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.client.listJobs({ waiting: true, limit: 100, cursor });
    jobs.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && jobs.length < INBOX_MAX);
  return jobs.map((job) => job.waiting_for).filter((request): request is InputRequest => request != null);
}

/** The pending requests of a job and its subjobs, oldest first. */
async function treeInbox(ctx: ClientContext, jobId: string): Promise<InputRequest[]> {
  const requests: InputRequest[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx.client.listInputRequests(jobId, { include: 'subjobs', status: 'pending', limit: 100, cursor });
    requests.push(...page.data);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && requests.length < INBOX_MAX);
  return requests;
}

async function printInbox(ctx: ClientContext, requests: InputRequest[]): Promise<void> {
  const { style } = ctx;
  const jobs = new Map<string, Job>();
  for (const request of requests) if (!jobs.has(request.job_id)) jobs.set(request.job_id, await ctx.client.getJob(request.job_id));
  const names = new AgentNames(ctx.client);
  await names.load([...jobs.values()].map((job) => job.agent_id));
  for (const line of table(
    requests,
    [
      { header: 'JOB', value: (r) => r.job_id },
      { header: 'AGENT', value: (r) => names.name(jobs.get(r.job_id)!.agent_id), max: 20 },
      { header: 'KIND', value: (r) => (r.kind === 'approval' ? style.yellow(r.tool ? `approve ${r.tool}` : 'approval') : 'input') },
      { header: 'ASKED', value: (r) => formatAgo(r.requested_at) },
      { header: 'EXPIRES', value: (r) => (r.expires_at ? formatTime(r.expires_at) : '—') },
      { header: 'PROMPT', value: (r) => headline(r.prompt, 70) },
    ],
    style.dim,
  ))
    ctx.out(line);
  ctx.note(style.dim("answer with: agentjobs answer <job> --input JSON   ·   agentjobs approve|deny <job> [--note TEXT]"));
}

/** Answers a job's request (its pending one unless named) and says what happens next. */
async function answer(ctx: ClientContext, jobId: string, requestId: string | undefined, input: unknown, kind?: 'approval'): Promise<void> {
  let id = requestId;
  if (!id) {
    const job = await ctx.client.getJob(jobId);
    if (!job.waiting_for) {
      const why = job.status === 'running' || job.status === 'queued' ? `it is ${job.status} and not waiting for a person` : `it already ${job.status}`;
      throw new CliError(`${jobId} has no question to answer: ${why}`, EXIT.apiError);
    }
    if (kind === 'approval' && job.waiting_for.kind !== 'approval') {
      throw new CliError(`${jobId} waits for an input, not an approval: answer it with agentjobs answer ${jobId} --input JSON`, EXIT.usage);
    }
    id = job.waiting_for.id;
  }
  const job = await ctx.client.answerInput(jobId, id, input);
  if (ctx.json) return ctx.printJson(job);
  const verb = kind === 'approval' ? ((input as { approved: boolean }).approved ? 'approved' : 'denied') : 'answered';
  ctx.out(`${jobId} ${verb} (${id}); it goes back to its agent's queue and resumes with attempt ${job.attempt}`);
}

async function messageContent(io: Io, words: string[], data: string | undefined): Promise<string | Record<string, unknown>> {
  if (data !== undefined) {
    if (words.length > 0) throw new CliError('send takes a text or --data, not both');
    const text = await readTextArgument('--data', data, io);
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new CliError('--data must be a JSON object');
  }
  if (words.length === 0) throw new CliError('send needs the message: agentjobs send <job> TEXT (or --data JSON)');
  const text = words.length === 1 ? await readTextArgument('the message', words[0], io) : words.join(' ');
  if (text.trim() === '') throw new CliError('the message is empty');
  return text;
}

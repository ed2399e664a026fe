import { Command, Option } from 'commander';
import type { Job } from '@agentjobs/sdk/client';
import { JOB_STATUSES, type JobStatus } from '@agentjobs/sdk/protocol';
import { AgentNames, resolveAgent, runClient, wholeNumber, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { exitCodeOfStatus } from './exit-codes.js';
import { formatAgo, formatDuration, formatTime, formatTokens, headline, table } from './format.js';
import { renderTree, type NodeLive } from './job-tree.js';
import type { Io } from './io.js';

/** `agentjobs get <job>`, `agentjobs list`, `agentjobs cancel <job>`. */
export function jobsCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(program.command('get').description('show a job: status, tree, brief, result or error').argument('<job>', 'job id (job_…)')).action(
    async (jobId: string, flags: ClientFlags) =>
      runClient(io, flags, setExit, async (ctx) => {
        const job = await ctx.client.getJob(jobId);
        if (ctx.json) return ctx.printJson(job);
        await printJob(ctx, job);
      }),
  );

  withClientOptions(
    program
      .command('list')
      .description('list jobs, newest first')
      .addOption(new Option('--status <status>', 'only jobs with this status').choices(JOB_STATUSES))
      .option('--agent <agent>', 'only jobs of this agent (id or name)')
      .option('--parent <job>', 'only direct subjobs of this job')
      .option('--root <job>', 'only jobs of the tree under this root job')
      .option('--batch <batch>', 'only jobs of this batch (bat_…)')
      .option('--schedule <schedule>', 'only jobs of this schedule (sch_…)')
      .addOption(new Option('--limit <n>', 'how many (1–100)').argParser(wholeNumber(1, 100)).default(20))
      .option('--cursor <cursor>', 'the next page (printed after a full page)'),
  ).action(async (flags: ClientFlags & { status?: JobStatus; agent?: string; parent?: string; root?: string; batch?: string; schedule?: string; limit: number; cursor?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const agentId = flags.agent ? (await resolveAgent(ctx.client, flags.agent)).id : undefined;
      const page = await ctx.client.listJobs({
        status: flags.status,
        agent_id: agentId,
        parent_job_id: flags.parent,
        root_job_id: flags.root,
        batch_id: flags.batch,
        schedule_id: flags.schedule,
        limit: flags.limit,
        cursor: flags.cursor,
      });
      if (ctx.json) return ctx.printJson(page);
      if (page.data.length === 0) return ctx.note('no jobs match');
      const names = new AgentNames(ctx.client);
      await names.load(page.data.map((j) => j.agent_id));
      const { style } = ctx;
      for (const line of table(
        page.data,
        [
          { header: 'ID', value: (j) => j.id },
          { header: 'STATUS', value: (j) => style.status(j.status, j.cancel_requested_at && j.status === 'running' ? 'cancelling' : j.status) },
          { header: 'AGENT', value: (j) => names.name(j.agent_id), max: 20 },
          { header: 'PROGRESS', value: (j) => (j.status === 'completed' ? '100%' : j.progress?.percent != null ? `${Math.round(j.progress.percent)}%` : '—'), align: 'right' },
          { header: 'TOKENS', value: (j) => formatTokens(j.tokens_used), align: 'right' },
          { header: 'CREATED', value: (j) => formatAgo(j.created_at) },
          { header: 'OBJECTIVE', value: (j) => `${j.parent_job_id ? '↳ ' : ''}${headline(j.brief.objective, 60)}` },
        ],
        style.dim,
      ))
        ctx.out(line);
      if (page.next_cursor) ctx.note(style.dim(`more: add --cursor ${page.next_cursor}`));
    }),
  );

  withClientOptions(
    program
      .command('cancel')
      .description('cancel a job and its unfinished subjobs (running ones stop when their agent confirms)')
      .argument('<job>', 'job id (job_…)')
      .option('--wait', 'wait until the cancel is confirmed (exit 2 when cancelled, 0/1 if it finished first)'),
  ).action(async (jobId: string, flags: ClientFlags & { wait?: boolean }) =>
    runClient(io, flags, setExit, async (ctx) => {
      let job = await ctx.client.cancelJob(jobId);
      if (flags.wait && job.status !== 'cancelled') job = await ctx.client.waitForJob(jobId);
      if (ctx.json) ctx.printJson(job);
      else if (job.status === 'cancelled') ctx.out(`${job.id} ${ctx.style.status('cancelled')}`);
      else if (job.cancel_requested_at && job.status === 'running') ctx.out(`${job.id} cancel requested: its agent is asked to stop, then it becomes cancelled`);
      else ctx.out(`${job.id} ${ctx.style.status(job.status)}`);
      return flags.wait ? exitCodeOfStatus(job.status) : undefined;
    }),
  );
}

/** Most running subjobs whose progress `get` fetches (one request each) to fill the tree's bars. */
const PROGRESS_LOOKUPS = 50;

/**
 * The progress of the tree's running subjobs: the tree's nodes do not carry it (the job object's `subjobs` have
 * the seed's fields only), so each is read, up to PROGRESS_LOOKUPS of them.
 */
async function runningProgress(ctx: ClientContext, job: Job): Promise<Map<string, NodeLive>> {
  const running: string[] = [];
  const walk = (nodes: Job['subjobs']) => {
    for (const node of nodes) {
      if (node.status === 'running' && running.length < PROGRESS_LOOKUPS) running.push(node.id);
      walk(node.subjobs);
    }
  };
  walk(job.subjobs);
  const jobs = await Promise.all(running.map((id) => ctx.client.getJob(id).catch(() => null)));
  const live = new Map<string, NodeLive>();
  for (const child of jobs) {
    if (child?.progress) live.set(child.id, { percent: child.progress.percent ?? null, message: child.progress.message ?? null, startedAt: child.started_at, attempt: child.attempt });
  }
  return live;
}

/** The human view of one job. */
async function printJob(ctx: ClientContext, job: Job): Promise<void> {
  const { style } = ctx;
  const names = new AgentNames(ctx.client);
  const ids = [job.agent_id];
  const walk = (nodes: Job['subjobs']) => nodes.forEach((n) => (ids.push(n.agent_id), walk(n.subjobs)));
  walk(job.subjobs);
  await names.load(ids);
  const row = (label: string, value: string) => ctx.out(`  ${style.dim(label.padEnd(11))}${value}`);
  const running = job.status === 'running' && job.cancel_requested_at ? 'running, cancel requested' : job.status;
  ctx.out(`${style.bold(job.id)}  ${style.status(job.status, running)}`);
  row('agent', `${names.name(job.agent_id)} (${job.agent_id})`);
  row('objective', headline(job.brief.objective, 200));
  if (job.parent_job_id) row('parent', `${job.parent_job_id} (root ${job.root_job_id})`);
  row('created', formatTime(job.created_at));
  row('started', formatTime(job.started_at));
  row('finished', formatTime(job.completed_at));
  if (job.started_at) row('elapsed', formatDuration((job.completed_at ? Date.parse(job.completed_at) : Date.now()) - Date.parse(job.started_at)));
  row('attempt', `${job.attempt} of ${job.max_attempts}`);
  row('tokens', `${formatTokens(job.tokens_used)}${job.tokens_used !== job.tokens_used_self ? ` (own ${formatTokens(job.tokens_used_self)})` : ''}`);
  if (job.progress) row('progress', [job.progress.percent != null ? `${Math.round(job.progress.percent)}%` : null, job.progress.message].filter(Boolean).join(' '));
  if (job.error) row('error', style.red(`${job.error.code}: ${job.error.message}`));
  if (job.subjobs.length) {
    ctx.out('');
    const live = await runningProgress(ctx, job);
    for (const line of renderTree(job, { name: (id) => names.name(id), live, now: Date.now(), style, elapsed: false })) ctx.out(`  ${line}`);
  }
  if (job.status === 'completed') {
    ctx.out('');
    ctx.out(style.dim('result:'));
    ctx.out(JSON.stringify(job.result, null, 2));
  }
}

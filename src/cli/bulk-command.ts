import { Command, Option } from 'commander';
import { JOB_STATUSES, type BatchItem, type BulkFilter, type JobStatus } from '@agentjobs/sdk/protocol';
import { collect, resolveAgent, runClient, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { CliError } from './exit-codes.js';
import { parsePairs, readTextArgument } from './inputs.js';
import type { Io } from './io.js';

interface FilterFlags extends ClientFlags {
  status?: JobStatus;
  agent?: string;
  batch?: string;
  schedule?: string;
  createdAfter?: string;
  createdBefore?: string;
  metadata?: string[];
}

/** `agentjobs batch FILE.jsonl`, `agentjobs rerun <job>`, `agentjobs bulk-cancel`, `agentjobs bulk-rerun`. */
export function bulkCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('batch')
      .description('dispatch the jobs of a JSON Lines file (one dispatch body a line, up to 1,000) as one batch: all or none')
      .argument('<file>', 'a .jsonl file (- reads stdin); "agent_id" may be an agent name')
      .option('--observer <url>', 'a webhook URL told once, with batch.completed, when every job has ended', collect)
      .option('--idempotency-key <key>', 'a retried batch with the same key and body returns the same batch'),
  ).action(async (file: string, flags: ClientFlags & { observer?: string[]; idempotencyKey?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const jobs = await readJsonLines(file, io);
      const agents = new Map<string, string>();
      for (const job of jobs) {
        if (!agents.has(job.agent_id)) agents.set(job.agent_id, (await resolveAgent(ctx.client, job.agent_id)).id);
        job.agent_id = agents.get(job.agent_id)!;
      }
      const observers = (flags.observer ?? []).map((url) => ({ type: 'webhook' as const, url }));
      const batch = await ctx.client.createBatch({ jobs, ...(observers.length ? { observers } : {}) }, { idempotencyKey: flags.idempotencyKey });
      if (ctx.json) return ctx.printJson(batch);
      ctx.out(batch.id);
      ctx.note(ctx.style.dim(`${batch.job_ids.length} jobs queued; follow them with: agentjobs list --batch ${batch.id}`));
    }),
  );

  withClientOptions(
    program
      .command('rerun')
      .description('dispatch a job again, with its brief (prints the new job id)')
      .argument('<job>', 'job id (job_…)')
      .option('--objective <text>', "replace the original's objective (@file reads a file)")
      .option('--agent <agent>', 'run it on another agent (id or name)'),
  ).action(async (jobId: string, flags: ClientFlags & { objective?: string; agent?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const agentId = flags.agent ? (await resolveAgent(ctx.client, flags.agent)).id : undefined;
      const objective = flags.objective !== undefined ? await readTextArgument('--objective', flags.objective, io) : undefined;
      const job = await ctx.client.rerunJob(jobId, { ...(objective ? { brief: { objective } } : {}), ...(agentId ? { agent_id: agentId } : {}) });
      if (ctx.json) return ctx.printJson(job);
      ctx.out(job.id);
    }),
  );

  for (const [name, description, act] of [
    ['bulk-cancel', "cancel the queued and running jobs that match (only your tenant's)", (ctx: ClientContext, f: BulkFilter) => ctx.client.bulkCancel(f)],
    ['bulk-rerun', "re-run the jobs that match (only your tenant's)", (ctx: ClientContext, f: BulkFilter) => ctx.client.bulkRerun(f)],
  ] as const) {
    withClientOptions(
      program
        .command(name)
        .description(`${description}; give at least one filter`)
        .addOption(new Option('--status <status>', 'jobs with this status').choices(JOB_STATUSES))
        .option('--agent <agent>', 'jobs of this agent (id or name)')
        .option('--batch <batch>', 'jobs of this batch (bat_…)')
        .option('--schedule <schedule>', 'jobs of this schedule (sch_…)')
        .option('--created-after <time>', 'jobs created after this RFC 3339 time')
        .option('--created-before <time>', 'jobs created before this RFC 3339 time')
        .option('--metadata <key=value>', 'jobs with this metadata value, repeatable', collect),
    ).action(async (flags: FilterFlags) =>
      runClient(io, flags, setExit, async (ctx) => {
        const filter = await filterOf(ctx, flags);
        const { matched } = await act(ctx, filter);
        if (ctx.json) return ctx.printJson({ matched });
        ctx.out(`${matched} ${matched === 1 ? 'job' : 'jobs'} ${name === 'bulk-cancel' ? 'cancelled' : 're-run'}`);
      }),
    );
  }
}

async function filterOf(ctx: ClientContext, flags: FilterFlags): Promise<BulkFilter> {
  const filter: BulkFilter = {};
  if (flags.status) filter.status = flags.status;
  if (flags.agent) filter.agent_id = (await resolveAgent(ctx.client, flags.agent)).id;
  if (flags.batch) filter.batch_id = flags.batch;
  if (flags.schedule) filter.schedule_id = flags.schedule;
  if (flags.createdAfter) filter.created_after = flags.createdAfter;
  if (flags.createdBefore) filter.created_before = flags.createdBefore;
  if (flags.metadata?.length) filter.metadata = parsePairs('--metadata', flags.metadata, { json: false }) as Record<string, string>;
  if (Object.keys(filter).length === 0) throw new CliError('give at least one filter (--status, --agent, --batch, --schedule, --created-after, --created-before, --metadata)');
  return filter;
}

/** The lines of a JSON Lines file, each a dispatch body (blank lines skipped); errors name the line. */
async function readJsonLines(file: string, io: Io): Promise<BatchItem[]> {
  const text = await readTextArgument('FILE', file === '-' ? '@-' : `@${file}`, io);
  const jobs: BatchItem[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as BatchItem;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
      jobs.push(value);
    } catch (error) {
      throw new CliError(`${file} line ${i + 1}: ${(error as Error).message}`);
    }
  }
  if (jobs.length === 0) throw new CliError(`${file} has no jobs: write one dispatch body (JSON) per line`);
  return jobs;
}

import { Command, Option } from 'commander';
import { OVERLAP_POLICIES, type Schedule } from '@agentjobs/sdk/protocol';
import { collect, resolveAgent, runClient, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { CliError } from './exit-codes.js';
import { formatTime, headline, table } from './format.js';
import { parsePairs, readJsonArgument, readTextArgument } from './inputs.js';
import type { Io } from './io.js';

interface CreateFlags extends ClientFlags {
  cron: string;
  objective: string;
  context?: string;
  schema?: string;
  constraint?: string[];
  timezone?: string;
  overlap?: (typeof OVERLAP_POLICIES)[number];
  metadata?: string[];
  paused?: boolean;
}

/** `agentjobs schedules create|list|get|pause|resume|trigger|delete`. */
export function schedulesCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const schedules = program.command('schedules').description('cron schedules that dispatch a job per fire');

  withClientOptions(
    schedules
      .command('create')
      .description('create a schedule: one job for the agent at every fire of the cron, in a time zone')
      .argument('<agent>', 'agent id (agt_…) or name')
      .requiredOption('--cron <pattern>', 'five fields: minute hour day-of-month month day-of-week, e.g. "0 9 * * MON-FRI"')
      .requiredOption('--objective <text>', 'the brief of each job (@file reads a file)')
      .option('--context <text|@file>', 'background information')
      .option('--schema <json|@file>', 'JSON Schema the result must match')
      .option('--constraint <key=value>', 'a constraint, repeatable', collect)
      .option('--timezone <iana>', 'time zone of the cron, e.g. Europe/Paris (default UTC)')
      .addOption(new Option('--overlap <policy>', 'while the previous job runs (default skip)').choices(OVERLAP_POLICIES))
      .option('--metadata <key=value>', 'your own key/value, repeatable', collect)
      .option('--paused', 'create it paused'),
  ).action(async (agentRef: string, flags: CreateFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      const objective = await readTextArgument('--objective', flags.objective, io);
      if (!objective.trim()) throw new CliError('--objective must not be empty');
      const agent = await resolveAgent(ctx.client, agentRef);
      const schedule = await ctx.client.createSchedule({
        agent_id: agent.id,
        cron: flags.cron,
        brief: {
          objective,
          ...(flags.context !== undefined ? { context: await readTextArgument('--context', flags.context, io) } : {}),
          ...(flags.schema !== undefined ? { output_schema: await readJsonArgument('--schema', flags.schema, io) } : {}),
          ...(flags.constraint?.length ? { constraints: parsePairs('--constraint', flags.constraint, { json: true }) } : {}),
        },
        ...(flags.timezone ? { timezone: flags.timezone } : {}),
        ...(flags.overlap ? { overlap: flags.overlap } : {}),
        ...(flags.metadata?.length ? { metadata: parsePairs('--metadata', flags.metadata, { json: false }) } : {}),
        ...(flags.paused ? { paused: true } : {}),
      });
      if (ctx.json) return ctx.printJson(schedule);
      ctx.out(schedule.id);
      ctx.note(ctx.style.dim(schedule.next_run_at ? `next run ${formatTime(schedule.next_run_at)}` : 'paused'));
    }),
  );

  withClientOptions(schedules.command('list').description('list schedules, newest first').option('--agent <agent>', 'only schedules of this agent')).action(
    async (flags: ClientFlags & { agent?: string }) =>
      runClient(io, flags, setExit, async (ctx) => {
        const agentId = flags.agent ? (await resolveAgent(ctx.client, flags.agent)).id : undefined;
        const page = await ctx.client.listSchedules({ agent_id: agentId, limit: 100 });
        if (ctx.json) return ctx.printJson(page);
        if (page.data.length === 0) return ctx.note('no schedules');
        for (const line of table(
          page.data,
          [
            { header: 'ID', value: (s) => s.id },
            { header: 'CRON', value: (s) => s.cron },
            { header: 'TIMEZONE', value: (s) => s.timezone },
            { header: 'NEXT RUN', value: (s) => (s.next_run_at ? formatTime(s.next_run_at) : 'paused') },
            { header: 'LAST RUN', value: (s) => formatTime(s.last_run_at) },
            { header: 'OBJECTIVE', value: (s) => headline(s.brief.objective, 50) },
          ],
          ctx.style.dim,
        ))
          ctx.out(line);
      }),
  );

  const one = (name: string, description: string, run: (ctx: ClientContext, id: string) => Promise<unknown>) =>
    withClientOptions(schedules.command(name).description(description).argument('<schedule>', 'schedule id (sch_…)')).action(
      async (id: string, flags: ClientFlags) =>
        runClient(io, flags, setExit, async (ctx) => {
          const result = await run(ctx, id);
          if (ctx.json) return ctx.printJson(result);
          if (isSchedule(result)) printSchedule(ctx, result);
          else ctx.out((result as { id: string }).id);
        }),
    );
  one('get', 'show a schedule', (ctx, id) => ctx.client.getSchedule(id));
  one('pause', 'pause a schedule (no fires until resumed)', (ctx, id) => ctx.client.updateSchedule(id, { paused: true }));
  one('resume', 'resume a schedule from now (missed fires are not run)', (ctx, id) => ctx.client.updateSchedule(id, { paused: false }));
  one('trigger', 'dispatch one job of the schedule now; prints the job id', (ctx, id) => ctx.client.triggerSchedule(id));
  one('delete', 'delete a schedule (its jobs stay)', (ctx, id) => ctx.client.deleteSchedule(id));
}

function isSchedule(value: unknown): value is Schedule {
  return typeof value === 'object' && value !== null && 'cron' in value;
}

function printSchedule(ctx: ClientContext, s: Schedule): void {
  const row = (label: string, value: string) => ctx.out(`  ${ctx.style.dim(label.padEnd(10))}${value}`);
  ctx.out(ctx.style.bold(s.id));
  row('agent', s.agent_id);
  row('cron', `${s.cron} (${s.timezone}), overlap ${s.overlap}`);
  row('objective', headline(s.brief.objective, 200));
  row('next run', s.next_run_at ? formatTime(s.next_run_at) : 'paused');
  row('last run', `${formatTime(s.last_run_at)}${s.last_job_id ? ` (${s.last_job_id})` : ''}`);
}

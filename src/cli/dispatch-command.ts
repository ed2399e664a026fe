import { Command, Option } from 'commander';
import { type Brief, OBSERVER_EVENTS, type Observer } from '@agentjobs/sdk/protocol';
import { collect, resolveAgent, runClient, withClientOptions, type ClientFlags } from './client-command.js';
import { CliError, exitCodeOfStatus } from './exit-codes.js';
import { parseDuration } from '../domain/time.js';
import { parsePairs, readJsonArgument, readTextArgument } from './inputs.js';
import type { Io } from './io.js';
import { printOutcome, watchJob } from './watch-command.js';

interface DispatchFlags extends ClientFlags {
  objective: string;
  context?: string;
  schema?: string;
  constraint?: string[];
  observer?: string[];
  observerEvents?: string;
  metadata?: string[];
  idempotencyKey?: string;
  delay?: string;
  notBefore?: string;
  wait?: boolean;
  watch?: boolean;
  tty: boolean;
}

/**
 * `agentjobs dispatch <agent> --objective …`: dispatches a job with a structured brief. Prints the job id (so
 * `JOB=$(agentjobs dispatch …)` works); with `--wait` waits and prints the result, with `--watch` shows the
 * live tree. Exit codes after waiting: 0 completed, 1 failed, 2 cancelled.
 */
export function dispatchCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('dispatch')
      .description('dispatch a job to an agent (with --wait or --watch: exit 0 completed, 1 failed, 2 cancelled)')
      .argument('<agent>', 'agent id (agt_…) or name')
      .requiredOption('--objective <text>', 'what the agent should accomplish (@file reads a file)')
      .option('--context <text|@file>', 'background information (@file reads a file, @- reads stdin)')
      .option('--schema <json|@file>', 'JSON Schema the result must match (brief.output_schema)')
      .option('--constraint <key=value>', 'a constraint, repeatable: max_duration_seconds=600, max_tokens=5000, allowed_tools=web_search,fetch', collect)
      .option('--observer <url>', 'a webhook URL told of every transition, repeatable', collect)
      .option('--observer-events <list>', `what the observers are told of, comma-separated (${OBSERVER_EVENTS.join(',')}; default: the four statuses)`)
      .option('--metadata <key=value>', 'your own key/value (string values), repeatable', collect)
      .option('--idempotency-key <key>', 'a retried dispatch with the same key and body returns the same job')
      .addOption(new Option('--delay <duration>', 'start no sooner than this from now: 90s, 15m, 2h').conflicts('notBefore'))
      .option('--not-before <time>', 'start no sooner than this RFC 3339 time')
      .addOption(new Option('--wait', 'wait until the job finishes, then print its result').conflicts('watch'))
      .addOption(new Option('--watch', 'show the live tree of the job and its subjobs until it finishes').conflicts('wait'))
      .addOption(new Option('--no-tty', 'with --watch: one line per event instead of redrawing')),
  ).action(async (agentRef: string, flags: DispatchFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      const brief: Brief = { objective: await readTextArgument('--objective', flags.objective, io) };
      if (!brief.objective.trim()) throw new CliError('--objective must not be empty');
      if (flags.context !== undefined) brief.context = await readTextArgument('--context', flags.context, io);
      if (flags.schema !== undefined) brief.output_schema = await readJsonArgument('--schema', flags.schema, io);
      if (flags.constraint?.length) brief.constraints = parsePairs('--constraint', flags.constraint, { json: true });
      const events = flags.observerEvents?.split(',').map((e) => e.trim()).filter(Boolean);
      for (const event of events ?? []) {
        if (!(OBSERVER_EVENTS as readonly string[]).includes(event)) throw new CliError(`--observer-events: '${event}' is not one of ${OBSERVER_EVENTS.join(', ')}`);
      }
      const observers: Observer[] = (flags.observer ?? []).map((url) => ({ type: 'webhook', url, ...(events ? { events: events as Observer['events'] } : {}) }));

      const agent = await resolveAgent(ctx.client, agentRef);
      const dispatched = await ctx.client.dispatch(
        {
          agent_id: agent.id,
          brief,
          ...(observers.length ? { observers } : {}),
          ...(flags.metadata?.length ? { metadata: parsePairs('--metadata', flags.metadata, { json: false }) } : {}),
          ...(flags.delay ? { delay_seconds: delaySeconds(flags.delay) } : {}),
          ...(flags.notBefore ? { not_before: flags.notBefore } : {}),
        },
        { idempotencyKey: flags.idempotencyKey },
      );

      if (!flags.wait && !flags.watch) {
        if (ctx.json) return ctx.printJson(dispatched);
        ctx.out(dispatched.id);
        ctx.note(ctx.style.dim(`${dispatched.status} for ${agent.name}; follow it with: agentjobs watch ${dispatched.id}`));
        return;
      }
      // An agent run by external workers with none seen lately would leave the wait silent: say why it may last.
      if (!ctx.json && agent.runtime.type === 'worker' && agent.counts.workers_seen_last_minute === 0) {
        ctx.note(`no worker of ${agent.name} has been seen in the last minute: the job stays queued until one claims it (start one; see agentjobs agents get ${agent.name})`);
      }
      if (flags.wait || ctx.json) {
        if (!ctx.json) ctx.note(ctx.style.dim(`${dispatched.id} ${dispatched.status} for ${agent.name}; waiting…`));
        const job = await ctx.client.waitForJob(dispatched.id);
        if (ctx.json) ctx.printJson(job);
        else printOutcome(ctx, job);
        return exitCodeOfStatus(job.status);
      }
      const job = await watchJob(ctx, dispatched.id, { redraw: io.isTTY && flags.tty !== false });
      printOutcome(ctx, job);
      return exitCodeOfStatus(job.status);
    }),
  );
}

/** `--delay 15m` in seconds. */
function delaySeconds(value: string): number {
  try {
    return parseDuration(value) / 1000;
  } catch (error) {
    throw new CliError(`--delay: ${(error as Error).message}`);
  }
}

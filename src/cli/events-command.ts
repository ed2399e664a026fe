import { Command } from 'commander';
import type { JobEvent } from '@agentjobs/sdk/protocol';
import { runClient, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { formatClock } from './format.js';
import type { Io } from './io.js';

/**
 * `agentjobs events <job> [--follow]`: a job's event log, oldest first. `--follow` keeps printing live events
 * until the job (and with `--subjobs`, its subtree) is finished. `--json` prints one event per line (NDJSON),
 * which suits `jq` and log shippers.
 */
export function eventsCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('events')
      .description("print a job's events, oldest first (--json: one JSON event per line)")
      .argument('<job>', 'job id (job_…)')
      .option('--follow', 'keep printing new events until the job is finished')
      .option('--subjobs', "include its subjobs' events"),
  ).action(async (jobId: string, flags: ClientFlags & { follow?: boolean; subjobs?: boolean }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const include = flags.subjobs ? ('subjobs' as const) : undefined;
      const print = (event: JobEvent) => (ctx.json ? ctx.out(JSON.stringify(event)) : ctx.out(eventText(ctx, event)));
      if (flags.follow) {
        for await (const event of ctx.client.streamEvents(jobId, { include })) print(event);
        return;
      }
      let after: string | undefined;
      for (;;) {
        const page = await ctx.client.listEvents(jobId, { include, after, limit: 1000 });
        page.data.forEach(print);
        if (!page.next_cursor) break;
        after = page.next_cursor;
      }
    }),
  );
}

function eventText(ctx: ClientContext, event: JobEvent): string {
  const data = event.data && typeof event.data === 'object' && Object.keys(event.data).length ? JSON.stringify(event.data) : '';
  return `${formatClock(event.created_at)}  ${String(event.sequence).padStart(4)}  ${event.job_id}  ${ctx.style.bold(event.type.padEnd(22))}  ${ctx.style.dim(data)}`.trimEnd();
}

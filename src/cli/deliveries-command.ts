import { Command } from 'commander';
import type { Delivery } from '@agentjobs/sdk/client';
import { runClient, withClientOptions, type ClientFlags } from './client-command.js';
import { formatClock, formatTime } from './format.js';
import type { Io } from './io.js';

/** `agentjobs deliveries <job>`: webhook messages about a job or to its observers, with every attempt. */
export function deliveriesCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('deliveries')
      .description('list the webhook messages of a job with every attempt (status, latency, error)')
      .argument('<job>', 'job id (job_…)')
      .option('--retry <msg>', 'send this message (msg_…) again now, then list'),
  ).action(async (jobId: string, flags: ClientFlags & { retry?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      if (flags.retry) {
        const retried = await ctx.client.retryDelivery(flags.retry);
        ctx.note(`${retried.id} queued for another attempt now`);
      }
      const messages: Delivery[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.client.listDeliveries(jobId, { limit: 100, cursor });
        messages.push(...page.data);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      if (ctx.json) return ctx.printJson({ data: messages, next_cursor: null });
      if (messages.length === 0) return ctx.note('no webhook messages for this job (does it or an ancestor have observers?)');
      const { style } = ctx;
      const paint = (status: string) => (status === 'delivered' ? style.green(status) : status === 'failed' ? style.red(status) : style.yellow(status));
      // Oldest first, the order in which they were due.
      for (const m of [...messages].reverse()) {
        ctx.out(`${m.id}  ${paint(m.status.padEnd(9))}  ${m.type.padEnd(14)} #${m.sequence}  about ${m.job_id}`);
        ctx.out(style.dim(`    → ${m.url}${m.next_attempt_at && m.status === 'pending' ? `  next attempt ${formatTime(m.next_attempt_at)}` : ''}`));
        for (const a of m.attempts) {
          const code = a.status_code == null ? '---' : String(a.status_code);
          ctx.out(`    ${formatClock(a.attempted_at)}  ${code}  ${`${a.latency_ms}ms`.padStart(7)}  ${a.outcome}${a.error ? style.dim(`  ${a.error.split('\n')[0].slice(0, 120)}`) : ''}`);
        }
      }
    }),
  );
}

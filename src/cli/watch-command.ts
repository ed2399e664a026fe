import { Command, Option } from 'commander';
import type { Job } from '@agentjobs/sdk/client';
import type { JobEvent } from '@agentjobs/sdk/protocol';
import { AgentNames, runClient, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { exitCodeOfStatus } from './exit-codes.js';
import { formatClock, headline } from './format.js';
import { applyEvent, fitLine, renderTree, type NodeLive } from './job-tree.js';
import type { Io } from './io.js';
import type { Style } from './style.js';

/** `agentjobs watch <job>`: a live tree of a job and its subjobs, ending with the result. */
export function watchCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  withClientOptions(
    program
      .command('watch')
      .description('follow a job and its subjobs live: a tree with status, progress, tokens and elapsed time, then the result')
      .argument('<job>', 'job id (job_…)')
      .addOption(new Option('--no-tty', 'print one line per event and the tree at the end, without redrawing (automatic when stdout is not a terminal)')),
  ).action(async (jobId: string, flags: ClientFlags & { tty: boolean }) =>
    runClient(io, flags, setExit, async (ctx) => {
      if (ctx.json) {
        const job = await ctx.client.waitForJob(jobId);
        ctx.printJson(job);
        return exitCodeOfStatus(job.status);
      }
      const job = await watchJob(ctx, jobId, { redraw: io.isTTY && flags.tty !== false });
      printOutcome(ctx, job);
      return exitCodeOfStatus(job.status);
    }),
  );
}

/** Options of {@link watchJob}. */
export interface WatchOptions {
  /** Redraw the tree in place (a terminal); otherwise print one line per event and the final tree. */
  redraw: boolean;
}

/**
 * Follows a job's events (with its subjobs') until the whole tree is finished, showing the tree as it goes,
 * and resolves to the finished job. The tree's shape, statuses and tokens are re-read from the server after
 * events that change them; progress and start times come from the events themselves.
 */
export async function watchJob(ctx: ClientContext, jobId: string, options: WatchOptions): Promise<Job> {
  const { client, io, style } = ctx;
  const names = new AgentNames(client);
  const live = new Map<string, NodeLive>();
  let job = await client.getJob(jobId);
  await names.load(agentIds(job));

  const region = options.redraw ? new LiveRegion(io) : null;
  const width = region ? Math.max(40, (io.size?.().columns ?? 100) - 1) : undefined;
  const frame = (final = false) => [
    ...renderTree(job, { name: (id) => names.name(id), live, now: Date.now(), style, width }),
    ...(final ? [] : liveExtras(live, style, width)),
    ...(final ? [] : ['', style.dim('Ctrl-C stops watching; the job goes on.')]),
  ];
  if (!region) ctx.out(`watching ${job.id} (${names.name(job.agent_id)}) and its subjobs: one line per event, the tree at the end`);

  // Re-reads the job when events said the tree changed; at most one read at a time, coalescing the rest.
  let stale = false;
  let reading: Promise<void> | null = null;
  const reread = (): Promise<void> =>
    (reading ??= (async () => {
      while (stale) {
        stale = false;
        job = await client.getJob(jobId);
        await names.load(agentIds(job));
      }
    })().finally(() => (reading = null)));

  let ticker: ReturnType<typeof setInterval> | undefined;
  if (region) {
    region.draw(frame());
    // Redraw twice a second for the running clocks, and to pick up a re-read that finished between events.
    ticker = setInterval(() => {
      if (stale) void reread().then(() => region.draw(frame()), () => {});
      else region.draw(frame());
    }, 500);
  }
  let lastDraw = 0;
  try {
    for await (const event of client.streamEvents(jobId, { include: 'subjobs' })) {
      applyEvent(live, event);
      if (!QUIET_EVENTS.has(event.type)) stale = true;
      if (!region) {
        // An event of a subjob dispatched after the last read: read the tree again to learn its agent.
        if (!agentOf(job, event.job_id)) {
          stale = true;
          await reread();
        }
        ctx.out(eventLine(event, job, names, style));
      } else if (Date.now() - lastDraw > 100) {
        // A burst of stored events at the start is drawn once, not once per event.
        if (stale) await reread();
        region.draw(frame());
        lastDraw = Date.now();
      }
    }
  } finally {
    clearInterval(ticker);
  }
  stale = true;
  await reread();
  if (region) region.draw([...frame(true), '']);
  else {
    ctx.out('');
    for (const line of frame(true)) ctx.out(line);
    ctx.out('');
  }
  return job;
}

/** Events that change nothing the tree shows from the job object: no read of the tree after them. */
const QUIET_EVENTS = new Set(['job.progress', 'job.tool_call', 'job.output', 'job.message', 'job.artifact', 'job.input_required', 'job.input_received', 'job.resumed']);

/** Lines of output shown per job while watching. */
const OUTPUT_LINES = 6;

/**
 * Below the tree while watching: how to answer each job that waits for a person, and the last lines of the
 * output of the jobs that write some (the most recent writers first, three at most).
 */
function liveExtras(live: Map<string, NodeLive>, style: Style, width: number | undefined): string[] {
  const lines: string[] = [];
  for (const [id, node] of live) {
    if (!node.waiting) continue;
    const how = node.waiting.kind === 'approval' ? `agentjobs approve ${id}  ·  agentjobs deny ${id} --note TEXT` : `agentjobs answer ${id} --input JSON`;
    lines.push('', style.yellow(`⏸ ${id} waits for a person: ${headline(node.waiting.prompt, 200)}`), style.dim(`  ${how}`));
  }
  const writers = [...live].filter(([, node]) => node.output).slice(-3);
  for (const [id, node] of writers) {
    const tail = node.output!.replace(/\n$/, '').split('\n').slice(-OUTPUT_LINES);
    lines.push('', style.dim(`output of ${id}:`), ...tail.map((line) => `  ${line}`));
  }
  return width ? lines.map((line) => fitLine(line, width)) : lines;
}

/** Prints how a finished job ended: the result on stdout, an error on stderr. */
export function printOutcome(ctx: ClientContext, job: Job): void {
  const { style } = ctx;
  if (job.status === 'completed') {
    ctx.note(`${style.green('✓')} ${job.id} ${style.status('completed')}`);
    ctx.out(JSON.stringify(job.result, null, 2));
  } else if (job.status === 'failed') {
    ctx.note(`${style.red('✗')} ${job.id} ${style.status('failed')}: ${job.error?.code ?? 'error'}: ${job.error?.message ?? ''}`);
  } else {
    ctx.note(`${style.yellow('⊘')} ${job.id} ${style.status('cancelled')}${job.error ? ` (${job.error.code})` : ''}`);
  }
}

/** One line per event in the non-redrawing mode: time, job, agent, event, what it says. */
function eventLine(event: JobEvent, root: Job, names: AgentNames, style: Style): string {
  const agent = names.name(agentOf(root, event.job_id) ?? root.agent_id);
  const type = event.type.replace(/^job\./, '');
  const shownType = ['completed', 'failed', 'cancelled', 'running', 'queued'].includes(type) ? style.status(type, type.padEnd(17)) : type.padEnd(17);
  return `${formatClock(event.created_at)}  ${event.job_id}  ${agent.padEnd(14)}  ${shownType}  ${describe(event)}`.trimEnd();
}

function describe(event: JobEvent): string {
  const d = (event.data ?? {}) as Record<string, any>;
  switch (event.type) {
    case 'job.queued':
      return d.reason === 'retry' ? `attempt ${d.attempt} queued after: ${headline(d.error?.message, 80)}` : '';
    case 'job.running':
      return `attempt ${d.attempt ?? 1}`;
    case 'job.progress':
      return [typeof d.percent === 'number' ? `${Math.round(d.percent)}%` : null, d.message ? headline(d.message, 80) : null].filter(Boolean).join(' ');
    case 'job.subjob_dispatched':
      return `→ ${d.subjob_id}`;
    case 'job.tool_call':
      return `${d.tool}${d.allowed === false ? ' (refused)' : ''}`;
    case 'job.failed':
      return `${d.error?.code ?? ''}: ${headline(d.error?.message, 80)}`;
    case 'job.input_required': {
      const r = d.request ?? {};
      const how = r.kind === 'approval' ? `agentjobs approve|deny ${event.job_id}` : `agentjobs answer ${event.job_id} --input JSON`;
      return `waits for a person: ${headline(r.prompt, 80)} — ${how}`;
    }
    case 'job.input_received':
      return d.kind === 'approval' ? (d.input?.approved ? 'approved' : 'denied') : 'answered';
    case 'job.resumed':
      return `taken back by a worker (attempt ${d.attempt ?? 1})`;
    case 'job.message':
      return headline(typeof d.content === 'string' ? d.content : JSON.stringify(d.content), 80);
    case 'job.output':
      return `${d.stream && d.stream !== 'default' ? `[${d.stream}] ` : ''}${JSON.stringify(d.delta ?? '').slice(1, -1).slice(0, 200)}`;
    case 'job.artifact':
      return `${d.name} (${d.media_type}, ${d.size} bytes)`;
    case 'job.cancelled':
    case 'job.cancel_requested':
      return d.error?.code ?? d.reason ?? '';
    default:
      return '';
  }
}

function agentIds(job: Job): string[] {
  const ids = [job.agent_id];
  const walk = (nodes: Job['subjobs']) => nodes.forEach((n) => (ids.push(n.agent_id), walk(n.subjobs)));
  walk(job.subjobs);
  return ids;
}

function agentOf(job: Job, jobId: string): string | undefined {
  if (job.id === jobId) return job.agent_id;
  const find = (nodes: Job['subjobs']): string | undefined => {
    for (const n of nodes) {
      if (n.id === jobId) return n.agent_id;
      const found = find(n.subjobs);
      if (found) return found;
    }
    return undefined;
  };
  return find(job.subjobs);
}

/**
 * A block of lines redrawn in place: the cursor goes back up over the last frame, which is cleared and
 * written again in one write (no flicker). Frames are kept shorter than the terminal, because the cursor
 * cannot move up past the top of the screen.
 */
class LiveRegion {
  private height = 0;

  constructor(private readonly io: Io) {}

  draw(lines: string[]): void {
    const rows = this.io.size?.().rows ?? 40;
    const shown = lines.length > rows - 1 ? [...lines.slice(0, rows - 2), `… ${lines.length - rows + 2} more lines (a taller terminal shows them)`] : lines;
    const up = this.height > 0 ? `\x1b[${this.height}A\r` : '';
    this.io.out(`${up}\x1b[J${shown.join('\n')}\n`);
    this.height = shown.length;
  }
}

import { Command, Option } from 'commander';
import type { Agent } from '@agentjobs/sdk/client';
import type { Runtime } from '@agentjobs/sdk/protocol';
import { resolveAgent, runClient, wholeNumber, withClientOptions, type ClientContext, type ClientFlags } from './client-command.js';
import { formatAgo, formatTime, table } from './format.js';
import { readJsonArgument } from './inputs.js';
import type { Io } from './io.js';

/** `agentjobs agents create|list|get`. */
export function agentsCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const agents = program.command('agents').description('create and inspect agents');

  withClientOptions(
    agents
      .command('create')
      .description('create an agent and print its worker token (shown once)')
      .argument('<name>', 'a name people will recognise, e.g. researcher')
      .option('--description <text>', 'what the agent does')
      .addOption(new Option('--max-concurrency <n>', 'running jobs at once across all its workers').argParser(wholeNumber(1, 100_000)))
      .option('--runtime <json|@file>', 'runtime object, e.g. {"type":"model","base_url":"…","model":"…"} (default: worker)'),
  ).action(async (name: string, flags: ClientFlags & { description?: string; maxConcurrency?: number; runtime?: string }) =>
    runClient(io, flags, setExit, async (ctx) => {
      const runtime = flags.runtime ? await readJsonArgument('--runtime', flags.runtime, io) : undefined;
      const agent = await ctx.client.createAgent({
        name,
        ...(flags.description ? { description: flags.description } : {}),
        ...(flags.maxConcurrency ? { max_concurrency: flags.maxConcurrency } : {}),
        ...(runtime ? { runtime: runtime as Runtime } : {}),
      });
      if (ctx.json) return ctx.printJson(agent);
      ctx.out(`${ctx.style.bold(agent.name)}  ${agent.id}`);
      if (agent.worker_token) {
        ctx.out(`worker token (shown once): ${agent.worker_token}`);
        // A model agent is run by the server itself: a worker of its own would compete with it for the jobs.
        if (agent.runtime.type === 'worker') {
          ctx.note(
            ctx.style.dim(
              `run a worker (from a checkout of the repository): AGENTJOBS_URL=${ctx.url} AGENT_ID=${agent.id} WORKER_TOKEN=${agent.worker_token} node --import tsx examples/quickstart-worker.ts`,
            ),
          );
        } else ctx.note(ctx.style.dim('the server runs this agent\'s jobs itself: it needs no worker (docs/model-agents.md)'));
      }
    }),
  );

  withClientOptions(agents.command('list').description('list agents with their live counts')).action(async (flags: ClientFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      const all: Agent[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.client.listAgents({ limit: 100, cursor });
        all.push(...page.data);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      if (ctx.json) return ctx.printJson({ data: all, next_cursor: null });
      if (all.length === 0) return ctx.note("no agents yet: create one with 'agentjobs agents create <name>'");
      for (const line of table(
        all,
        [
          { header: 'NAME', value: (a) => a.name, max: 30 },
          { header: 'ID', value: (a) => a.id },
          { header: 'RUNTIME', value: (a) => (a.runtime.type === 'model' ? `model:${a.runtime.model}` : 'worker'), max: 30 },
          { header: 'QUEUED', value: (a) => String(a.counts.queued), align: 'right' },
          { header: 'RUNNING', value: (a) => String(a.counts.running), align: 'right' },
          { header: 'WORKERS', value: (a) => String(a.counts.workers_seen_last_minute), align: 'right' },
          { header: 'LAST SEEN', value: (a) => formatAgo(a.last_seen_at) },
        ],
        ctx.style.dim,
      ))
        ctx.out(line);
    }),
  );

  withClientOptions(
    agents.command('get').description('show an agent and its live counts').argument('<agent>', 'agent id (agt_…) or name'),
  ).action(async (ref: string, flags: ClientFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      const agent = await resolveAgent(ctx.client, ref);
      if (ctx.json) return ctx.printJson(agent);
      printAgent(ctx, agent);
    }),
  );
}

function printAgent(ctx: ClientContext, agent: Agent): void {
  const { style } = ctx;
  const row = (label: string, value: string) => ctx.out(`  ${style.dim(label.padEnd(16))}${value}`);
  ctx.out(`${style.bold(agent.name)}  ${agent.id}`);
  if (agent.description) row('description', agent.description);
  row('runtime', agent.runtime.type === 'model' ? `model ${agent.runtime.model} at ${agent.runtime.base_url}` : 'worker (pulls jobs over the worker protocol)');
  // A model agent without a limit still runs at most the runtime's default per server process.
  const unset = agent.runtime.type === 'model' ? "none set (the server's model runtime default per process, 4 unless configured)" : 'no limit';
  row('max concurrency', agent.max_concurrency == null ? unset : String(agent.max_concurrency));
  row('queued', String(agent.counts.queued));
  row('running', String(agent.counts.running));
  row('workers (1 min)', String(agent.counts.workers_seen_last_minute));
  row('last seen', agent.last_seen_at ? `${formatTime(agent.last_seen_at)} (${formatAgo(agent.last_seen_at)})` : 'never');
  row('created', formatTime(agent.created_at));
}

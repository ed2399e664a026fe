/**
 * `npm run demo`: agentjobs at work in one command, on the embedded store.
 *
 * Starts a server (a temporary data dir, private webhooks allowed so a local receiver can listen), creates four
 * agents and runs their workers with the SDK — a coordinator that fans out to specialists and aggregates, a
 * researcher, an analyst that fails once and is retried, a writer — starts a webhook receiver that verifies
 * every signed delivery, dispatches a job tree observed by that receiver, and prints the dashboard's URL.
 *
 *   npm run demo                      keeps running until Ctrl-C (Enter dispatches another tree)
 *   npm run demo -- --exit-when-done  exits once the tree is finished and every webhook arrived (CI, tests)
 *   npm run demo -- --port 9090       another port (default 8080, or a free one when 8080 is taken)
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startServer, type RunningServer } from '../../src/server.js';
import { AgentJobsClient, type Job } from '@agentjobs/sdk/client';
import { runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';
import { analyst, coordinator, researcher, writer } from './agents.js';
import { startReceiver, type Receiver } from './receiver.js';

const { values: args } = parseArgs({
  options: {
    'exit-when-done': { type: 'boolean', default: false },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  process.stdout.write('usage: npm run demo [-- --exit-when-done] [-- --port N]\n');
  process.exit(0);
}

const tty = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');
const yellow = paint('33');
const say = (line = '') => process.stdout.write(`${line}\n`);

/** 8080 when it is free (the URL the docs show), else any free port, so a busy 8080 never stops the demo. */
async function pickPort(): Promise<number> {
  if (args.port !== undefined) return Number(args.port);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(8080, '127.0.0.1', () => probe.close(() => resolve(8080)));
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-demo-'));
const workers: WorkerHandle[] = [];
let server: RunningServer | null = null;
let receiver: Receiver | null = null;
let stopping: Promise<void> | null = null;

/** Stops everything the demo started, in reverse order, and removes its data dir. */
function stop(): Promise<void> {
  return (stopping ??= (async () => {
    await Promise.allSettled(workers.map((w) => w.stop()));
    await receiver?.close();
    // A worker stopped between two claims can leave a connection that never sent a request; Node's server
    // would wait on it when closing (up to its keep-alive timeout). Every client of this demo has stopped.
    server?.app.server.closeAllConnections();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  })());
}

async function main(): Promise<number> {
  server = await startServer(
    { port: await pickPort(), host: '127.0.0.1', dataDir, allowPrivateWebhooks: true, announce: () => {} },
    // Only warnings: the demo's own lines tell the story.
    pino({ level: process.env.AGENTJOBS_LOG_LEVEL ?? 'warn' }),
  );
  const apiKey = server.firstKey!;
  const client = new AgentJobsClient({ url: server.url, apiKey });

  // Agents, each with a worker run by the SDK in this process (in real life: anywhere that reaches the server).
  const names = new Map<string, string>();
  const create = async (name: string, description: string) => {
    const agent = await client.createAgent({ name, description, max_concurrency: 10 });
    names.set(agent.id, name);
    return { id: agent.id, token: agent.worker_token! };
  };
  const agents = {
    coordinator: await create('coordinator', 'Splits a question, fans out to specialists, aggregates their answers.'),
    researcher: await create('researcher', 'Searches and summarises one topic.'),
    analyst: await create('analyst', 'Crunches numbers. Its first attempt fails on purpose, to show a retry.'),
    writer: await create('writer', 'Turns findings into a recommendation.'),
  };
  const specialists = { researcher: agents.researcher.id, analyst: agents.analyst.id, writer: agents.writer.id };
  const handlers = {
    coordinator: coordinator(specialists),
    researcher,
    analyst,
    writer,
  } as const;
  for (const [name, agent] of Object.entries(agents) as Array<[keyof typeof agents, { id: string; token: string }]>) {
    workers.push(
      runWorker({
        url: server.url,
        agentId: agent.id,
        token: agent.token,
        concurrency: 4,
        leaseSeconds: 15,
        waitSeconds: 10,
        workerId: `demo-${name}`,
        handler: async (job, ctx) => {
          try {
            return await handlers[name](job, ctx);
          } catch (error) {
            // Say out loud what webhooks do not show: a retryable failure sends the job back to the queue.
            if (!ctx.signal.aborted) say(yellow(`  worker  ${name} attempt ${ctx.attempt} threw: ${(error as Error).message}`));
            throw error;
          }
        },
        onError: (error) => {
          if (!stopping) say(red(`  [${name} worker] ${(error as Error).message}`));
        },
      }),
    );
  }

  // The webhook receiver verifies each delivery with the tenant's signing secret.
  const { secret } = await client.getWebhookSecret();
  receiver = await startReceiver(
    secret,
    ({ payload, duplicate }) => {
      const job = payload.data.job as Job;
      const status = job.status === 'completed' ? green(job.status) : job.status === 'failed' ? red(job.status) : job.status;
      const name = (names.get(job.agent_id) ?? job.agent_id).padEnd(11);
      const retryNote = job.status === 'running' && job.attempt > 1 ? yellow(` attempt ${job.attempt}`) : '';
      say(`  ${cyan('webhook')} ${green('✓ signature verified')}  ${payload.type.padEnd(14)} ${name} ${dim(job.id)} seq ${payload.data.sequence} ${status}${retryNote}${duplicate ? dim(' (a retry we already had)') : ''}`);
    },
    (why) => say(red(`  webhook refused: ${why}`)),
  );

  const dashboard = `${server.url}/#key=${apiKey}`;
  say();
  say(bold('agentjobs demo'));
  say(`  server      ${server.url}   ${dim(`(embedded SQLite in ${dataDir})`)}`);
  say(`  dashboard   ${cyan(dashboard)}   ${dim('(this link signs you in)')}`);
  say(`  API key     ${apiKey}`);
  say(`  metrics     ${server.url}/metrics     API docs ${server.url}/docs`);
  say(`  webhooks    ${receiver.url}   ${dim('(a local receiver that checks every signature with verifyWebhook)')}`);
  say(`  agents      ${[...names].map(([id, name]) => `${name} ${dim(id)}`).join(', ')}`);
  say();

  const dispatchTree = async (): Promise<string> => {
    const { id } = await client.dispatch({
      agent_id: agents.coordinator.id,
      brief: {
        objective: 'Research the top competitors of Acme Corp and recommend a positioning.',
        context: 'Acme sells project management software to small agencies.',
        output_schema: {
          type: 'object',
          properties: {
            competitors: { type: 'array', items: { type: 'string' } },
            recommendation: { type: 'string' },
            findings: { type: 'array' },
          },
          required: ['competitors', 'recommendation'],
        },
        constraints: { max_duration_seconds: 300, max_tokens: 100_000 },
      },
      observers: [{ type: 'webhook', url: receiver!.url }],
      metadata: { source: 'demo' },
    });
    say(`${bold('dispatched')} ${id} to the coordinator  ${dim(`→ ${server!.url}/#/jobs/${id}`)}`);
    return id;
  };

  const finish = async (id: string): Promise<Job> => {
    const started = Date.now();
    const job = await client.waitForJob(id);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    say();
    if (job.status === 'completed') say(`${green(bold('completed'))} ${id} in ${seconds} s, ${job.tokens_used.toLocaleString('en-US')} tokens across the tree. Result:`);
    else say(`${red(bold(job.status))} ${id}: ${job.error?.code} ${job.error?.message}`);
    if (job.status === 'completed') say(JSON.stringify(job.result, null, 2).replace(/^/gm, '  '));
    return job;
  };

  const id = await dispatchTree();
  const job = await finish(id);
  const delivered = await allDelivered(client, receiver, id);
  say();
  say(delivered.ok ? green(`all ${delivered.count} webhook deliveries arrived and verified`) : red(`webhooks: ${delivered.detail}`));

  if (args['exit-when-done']) return job.status === 'completed' && delivered.ok ? 0 : 1;

  const cli = existsSync('dist/cli/main.js') ? 'node dist/cli/main.js' : 'npx tsx src/cli/main.ts';
  say();
  say(bold('Try next'));
  say(`  open the dashboard:  ${cyan(dashboard)}`);
  say(`  watch the tree:      AGENTJOBS_URL=${server.url} AGENTJOBS_API_KEY=${apiKey} ${cli} watch ${id}`);
  say(`  dispatch with the CLI (same env): ${cli} dispatch coordinator --objective "Size the market for time tracking" --watch`);
  say();
  say(process.stdin.isTTY ? 'Press Enter to dispatch another tree, Ctrl-C to stop.' : 'Running until Ctrl-C.');
  if (process.stdin.isTTY) {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', () => {
      void dispatchTree()
        .then(finish)
        .then(() => say('Press Enter to dispatch another tree, Ctrl-C to stop.'))
        .catch((error: Error) => say(red(error.message)));
    });
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('\nstopping…');
  return 0;
}

/** Waits until every webhook message about the tree was delivered and seen (verified) by the receiver. */
async function allDelivered(client: AgentJobsClient, receiver: Receiver, rootId: string): Promise<{ ok: boolean; count: number; detail: string }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const messages = [];
    let cursor: string | undefined;
    do {
      const page = await client.listDeliveries(rootId, { limit: 100, cursor });
      messages.push(...page.data);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const missing = messages.filter((m) => m.status !== 'delivered' || !receiver.seen.has(m.id));
    if (messages.length > 0 && missing.length === 0) return { ok: true, count: messages.length, detail: '' };
    if (Date.now() > deadline) return { ok: false, count: messages.length, detail: `${missing.length} of ${messages.length} not delivered yet` };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main()
  .then(async (code) => {
    await stop();
    process.exit(code);
  })
  .catch(async (error: Error) => {
    process.stderr.write(`demo failed: ${error.stack ?? error.message}\n`);
    await stop().catch(() => {});
    process.exit(1);
  });

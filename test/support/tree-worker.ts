/**
 * A worker process for the interactive tree tests, run with `node --import tsx`. `ROLE=upper` serves the root and
 * middle agents (each dispatches the next level and returns its result); `ROLE=leaf` serves the leaf agent, whose
 * handler asks a person for a colour and returns it with the pid of the process that finished it.
 */
import { runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';

const env = process.env;
const url = env.AGENTJOBS_URL!;
const handles: WorkerHandle[] = [];
// Leases long enough to outlast a server restarted by kill -9 on a loaded machine: the tree keeps its attempts.
const common = { url, leaseSeconds: 60, waitSeconds: 5, onError: (error: unknown) => process.stderr.write(`worker: ${String(error)}\n`) };

if (env.ROLE === 'upper') {
  handles.push(
    runWorker({
      ...common,
      agentId: env.ROOT_AGENT!,
      token: env.ROOT_TOKEN!,
      handler: async (job, ctx) => ({ middle: await (await ctx.dispatch(env.MIDDLE_AGENT!, { objective: `middle of ${job.id}` })).result() }),
    }),
    runWorker({
      ...common,
      agentId: env.MIDDLE_AGENT!,
      token: env.MIDDLE_TOKEN!,
      handler: async (job, ctx) => ({ leaf: await (await ctx.dispatch(env.LEAF_AGENT!, { objective: `leaf of ${job.id}` })).result() }),
    }),
  );
} else {
  handles.push(
    runWorker({
      ...common,
      agentId: env.LEAF_AGENT!,
      token: env.LEAF_TOKEN!,
      handler: async (_job, ctx) => {
        ctx.output(`process ${process.pid} starts\n`);
        const answer = await ctx.ask<{ colour: string }>(`pid ${process.pid}: which colour?`, {
          schema: { type: 'object', properties: { colour: { enum: ['red', 'green', 'blue'] } }, required: ['colour'], additionalProperties: false },
        });
        ctx.output(`process ${process.pid} goes on with ${answer.colour}\n`);
        return { colour: answer.colour, finished_by: process.pid };
      },
    }),
  );
}
process.stdout.write('ready\n');
process.once('SIGTERM', () => void Promise.all(handles.map((h) => h.stop())).then(() => process.exit(0)));

/**
 * The smallest agentjobs worker: claims jobs of one agent, reports progress, returns a result.
 *
 *   AGENTJOBS_URL=http://127.0.0.1:8080 AGENT_ID=agt_… WORKER_TOKEN=awt_… node --import tsx examples/quickstart-worker.ts
 *
 * It imports the SDK as your own project would, after `npm install @agentjobs/sdk`.
 */
import { runWorker } from '@agentjobs/sdk/worker';

const agentId = process.env.AGENT_ID;
const token = process.env.WORKER_TOKEN;
if (!agentId || !token) {
  console.error('Set AGENT_ID and WORKER_TOKEN (from `agentjobs agents create <name>`), and AGENTJOBS_URL if the server is not on 127.0.0.1:8080.');
  process.exit(64);
}

const worker = runWorker({
  url: process.env.AGENTJOBS_URL ?? 'http://127.0.0.1:8080',
  agentId,
  token,
  handler: async (job, ctx) => {
    ctx.progress(50, 'thinking');
    // A real agent calls a model here; report what it spent so budgets and dashboards add it up.
    ctx.reportTokens(42);
    return { answer: `You asked: ${job.brief.objective}`, words: job.brief.objective.split(/\s+/).length };
  },
});
console.log(`worker for ${agentId} is waiting for jobs (Ctrl-C to stop)`);

// Stop claiming on Ctrl-C, let the job in hand finish, then exit.
process.once('SIGINT', () => void worker.stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void worker.stop().then(() => process.exit(0)));

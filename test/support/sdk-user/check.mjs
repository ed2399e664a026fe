// A program that uses @agentjobs/sdk as an installed package: it dispatches a job, waits for it, and verifies
// the webhook of its completion. The test copies it into a project where the SDK was installed from its
// tarball, and runs it there, also under edge-runtime.mjs. It prints one JSON line of what it saw.
import { AgentJobsClient, AgentJobsError } from '@agentjobs/sdk/client';
import { verifyWebhook, verifyWebhookAsync, WebhookVerificationError } from '@agentjobs/sdk/webhooks';

const { url, apiKey, agentId, receiver } = JSON.parse(process.argv[2]);
const client = new AgentJobsClient({ url, apiKey });
const { secret } = await client.getWebhookSecret();
const run = crypto.randomUUID();
const { id } = await client.dispatch({
  agent_id: agentId,
  brief: { objective: 'Add 2 and 2' },
  metadata: { run },
  observers: [{ type: 'webhook', url: receiver, events: ['completed'] }],
});
const job = await client.waitForJob(id);
const listed = (await client.listJobs({ status: 'completed', metadata: { run } })).data.map((j) => j.id);

// The test's receiver keeps what it was sent and lists it on GET.
let delivery;
while (!delivery) {
  const received = await (await fetch(receiver)).json();
  delivery = received.find((r) => JSON.parse(r.body).data.job.id === id);
  if (!delivery) await new Promise((resolve) => setTimeout(resolve, 20));
}
const event = verifyWebhook(secret, delivery.headers, delivery.body);
const eventAsync = await verifyWebhookAsync(secret, new Headers(delivery.headers), new TextEncoder().encode(delivery.body));
const refused = await codeOf(() => verifyWebhook(secret, delivery.headers, delivery.body.replace('completed', 'failed')));
const refusedAsync = await codeOf(() => verifyWebhookAsync(secret, delivery.headers, `${delivery.body} `));
const apiError = await codeOf(() => client.getJob('job_01J0000000000000000000000'));
// Under edge-runtime.mjs these must fail: proof that the run above used none of them.
const blocked = await Promise.all(['undici', 'node:crypto', 'node:http'].map((name) => import(name).then(() => false, () => true)));

console.log(JSON.stringify({ status: job.status, listed: listed.length === 1 && listed[0] === id, result: job.result, type: event.type, jobOfEvent: event.data.job.id, asyncType: eventAsync.type, refused, refusedAsync, apiError, blocked }));

async function codeOf(fn) {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    return error instanceof WebhookVerificationError || error instanceof AgentJobsError ? error.code : String(error);
  }
}

import type { TestServer } from './server.js';

/** The seed's example dispatch body (agent id filled in). */
export function seedDispatch(agentId: string) {
  return {
    agent_id: agentId,
    brief: {
      objective: 'Research the top competitors of Acme Corp and recommend a positioning.',
      context: 'Acme sells project management software to small agencies.',
      output_schema: {
        type: 'object',
        properties: { competitors: { type: 'array', items: { type: 'string' } }, recommendation: { type: 'string' } },
        required: ['competitors', 'recommendation'],
      },
      constraints: { max_duration_seconds: 600, allowed_tools: ['web_search'] },
    },
    metadata: { customer: 'acme' },
  };
}

/** Creates an agent; returns its id and worker token. */
export async function createAgent(server: TestServer, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const res = await server.api('POST', '/v1/agents', { name: 'researcher', ...body });
  if (res.status !== 201) throw new Error(`create agent: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.worker_token };
}

/** Claims with a worker token; returns the claimed items. */
export async function claim(server: TestServer, agent: { id: string; token: string }, body: Record<string, unknown> = {}) {
  const res = await server.api('POST', `/v1/agents/${agent.id}/claim`, { max_jobs: 1, ...body }, { token: agent.token });
  if (res.status !== 200) throw new Error(`claim: ${res.status} ${res.text}`);
  return res.body.jobs as Array<{ job: any; lease: { token: string; expires_at: string } }>;
}

/** Dispatches a minimal job; returns its id. */
export async function dispatch(server: TestServer, agentId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await server.api('POST', '/v1/jobs', { agent_id: agentId, brief: { objective: 'do it' }, ...extra });
  if (res.status !== 202) throw new Error(`dispatch: ${res.status} ${res.text}`);
  return res.body.id;
}

/** Polls until `check` returns a value (for background effects such as webhook arrival). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Moves a job's lease (and timer) into the past, as if its worker had gone silent for longer than the lease:
 * the timer loop, which looks at least every 500 ms, then acts on it. Time travel by moving timestamps, not by
 * sleeping.
 */
export async function expireLease(server: TestServer, jobId: string): Promise<void> {
  await server.store.write(async (tx) => {
    await tx.run('UPDATE jobs SET lease_expires_at = ?, timer_at = ? WHERE id = ?', [tx.now - 1, tx.now - 1, jobId]);
    tx.notify('timer', '');
  });
}

/** Reads a job through the API. */
export async function getJob(server: TestServer, jobId: string): Promise<any> {
  const res = await server.api('GET', `/v1/jobs/${jobId}`);
  if (res.status !== 200) throw new Error(`get job: ${res.status} ${res.text}`);
  return res.body;
}

/** The types of a job's events, in order. */
export async function eventTypes(server: TestServer, jobId: string, include?: 'subjobs'): Promise<string[]> {
  const res = await server.api('GET', `/v1/jobs/${jobId}/events?limit=1000${include ? '&include=subjobs' : ''}`);
  return res.body.data.map((e: any) => e.type);
}

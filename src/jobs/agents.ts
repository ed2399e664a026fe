import { type CreateAgentRequest, JOB_ERROR_CODES, type UpdateAgentRequest } from '@agentjobs/sdk/protocol';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { hashToken, newToken, tokenHint, TOKEN_PREFIX } from '../domain/secrets.js';
import { iso } from '../domain/time.js';
import type { AgentRow, WorkerTokenRow } from '../store/rows.js';
import {
  countWorkersSince,
  getAgent,
  insertAgent,
  insertWorkerToken,
  listAgents,
  listWorkerTokens,
  revokeWorkerToken,
  updateAgent,
} from '../store/repo/agents-repo.js';
import { countAgentJobs, countLeasedJobs, countWaitingJobs, selectClaimable } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { transition } from './transition.js';

/** `POST /v1/agents`: creates an agent and its first worker token, shown once. */
export async function createAgent(
  ctx: JobsContext,
  principal: Principal,
  input: CreateAgentRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  if (input.runtime) ctx.checkRuntime(input.runtime);
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idempotencyKey ? { key: idempotencyKey, scope: 'POST /v1/agents', body: input } : null, async () => {
      const agent: AgentRow = {
        id: newId('agent', tx.now),
        tenant_id: principal.tenantId,
        name: input.name,
        description: input.description ?? null,
        runtime: JSON.stringify(input.runtime ?? { type: 'worker' }),
        max_concurrency: input.max_concurrency ?? null,
        last_seen_at: null,
        created_at: tx.now,
        updated_at: tx.now,
        deleted_at: null,
      };
      await insertAgent(tx, agent);
      const { token } = await issueToken(tx, agent);
      const view = await agentView(tx, agent);
      return {
        status: 201,
        body: JSON.stringify({ ...view, worker_token: token }),
        stored: JSON.stringify({ ...view, worker_token: null }),
      };
    }),
  );
}

/** `GET /v1/agents/{id}` with live counts. */
export async function getAgentJson(ctx: JobsContext, principal: Principal, agentId: string): Promise<string> {
  return ctx.store.read(async (tx) => JSON.stringify(await agentView(tx, await requireAgent(tx, principal, agentId))));
}

/** `GET /v1/agents`. */
export async function listAgentsJson(ctx: JobsContext, principal: Principal, query: { limit?: number; cursor?: string }): Promise<string> {
  const limit = query.limit ?? 20;
  return ctx.store.read(async (tx) => {
    const rows = await listAgents(tx, principal.tenantId, limit + 1, decodeCursor(query.cursor, 'agent'));
    const views = new Map<string, string>();
    for (const row of rows.slice(0, limit)) views.set(row.id, JSON.stringify(await agentView(tx, row)));
    return pageJson(rows, limit, (row) => views.get(row.id)!);
  });
}

/** `PATCH /v1/agents/{id}`: changes only the fields given. */
export async function updateAgentJson(ctx: JobsContext, principal: Principal, agentId: string, input: UpdateAgentRequest): Promise<string> {
  if (input.runtime) ctx.checkRuntime(input.runtime);
  return ctx.store.write(async (tx) => {
    const agent = await requireAgent(tx, principal, agentId, true);
    const patch: Partial<AgentRow> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description;
    if (input.runtime !== undefined) patch.runtime = JSON.stringify(input.runtime);
    if (input.max_concurrency !== undefined) patch.max_concurrency = input.max_concurrency;
    await updateAgent(tx, agent.id, patch);
    // A higher max_concurrency may let waiting workers claim now.
    tx.notify('agent', agent.id);
    return JSON.stringify(await agentView(tx, { ...agent, ...patch, updated_at: tx.now }));
  });
}

/**
 * `DELETE /v1/agents/{id}`: refused with 409 while the agent has running jobs. Its queued jobs can never run
 * and fail with `agent_deleted`; its worker tokens stop working.
 */
export async function deleteAgent(ctx: JobsContext, principal: Principal, agentId: string): Promise<void> {
  await ctx.store.write(async (tx) => {
    const agent = await requireAgent(tx, principal, agentId, true);
    // Claims take the agent's lock too: none can start a job between this count and the deletion. A job waiting
    // for a person is running too: its answer would find no agent to resume it.
    const running = (await countLeasedJobs(tx, agent.id)) + (await countWaitingJobs(tx, agent.tenant_id, agent.id));
    if (running > 0) {
      throw new JobsError(
        'agent_has_running_jobs',
        `Agent ${agentId} has ${running} running job(s) (waiting for input included); cancel them or wait for them to finish, then delete it.`,
      );
    }
    for (;;) {
      const queued = await selectClaimable(tx, agent.id, 500);
      for (const job of queued) {
        const error = JSON.stringify({ code: JOB_ERROR_CODES.agentDeleted, message: `Agent ${agent.id} was deleted before a worker took the job.` });
        await transition(tx, job, { to: 'failed', patch: { error } });
      }
      if (queued.length < 500) break;
    }
    await updateAgent(tx, agent.id, { deleted_at: tx.now });
    tx.notify('agent', agent.id);
    // Its worker tokens stop working at once, in every process.
    for (const token of await listWorkerTokens(tx, agent.id)) tx.notify('revoked', token.token_hash);
  });
}

/** `POST /v1/agents/{id}/worker-tokens`: another token; older ones stay valid until revoked. */
export async function createWorkerToken(
  ctx: JobsContext,
  principal: Principal,
  agentId: string,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  return ctx.store.write(async (tx) => {
    const agent = await requireAgent(tx, principal, agentId);
    const idem = idempotencyKey ? { key: idempotencyKey, scope: `worker-tokens:${agentId}`, body: {} } : null;
    return idempotent(tx, principal.tenantId, idem, async () => {
      const { row, token } = await issueToken(tx, agent);
      return {
        status: 201,
        body: JSON.stringify({ ...tokenView(row), token }),
        stored: JSON.stringify({ ...tokenView(row), token: null }),
      };
    });
  });
}

/** `GET /v1/agents/{id}/worker-tokens`. */
export async function listWorkerTokensJson(ctx: JobsContext, principal: Principal, agentId: string): Promise<string> {
  return ctx.store.read(async (tx) => {
    const agent = await requireAgent(tx, principal, agentId);
    const rows = await listWorkerTokens(tx, agent.id);
    return JSON.stringify({ data: rows.map(tokenView), next_cursor: null });
  });
}

/** `DELETE /v1/agents/{id}/worker-tokens/{token_id}`: revoked at once. */
export async function revokeWorkerTokenJson(ctx: JobsContext, principal: Principal, agentId: string, tokenId: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    const agent = await requireAgent(tx, principal, agentId);
    const row = await revokeWorkerToken(tx, agent.id, tokenId);
    if (!row) throw new JobsError('not_found', `Agent ${agentId} has no worker token '${tokenId.slice(0, 60)}'.`);
    tx.notify('revoked', row.token_hash);
    return JSON.stringify(tokenView(row));
  });
}

async function requireAgent(tx: Tx, principal: Principal, agentId: string, lock = false): Promise<AgentRow> {
  const agent = await getAgent(tx, principal.tenantId, agentId, lock);
  if (!agent) throw notFound('agent', agentId);
  return agent;
}

async function issueToken(tx: Tx, agent: AgentRow): Promise<{ row: WorkerTokenRow; token: string }> {
  const token = newToken(TOKEN_PREFIX.workerToken);
  const row: WorkerTokenRow = {
    id: newId('workerToken', tx.now),
    agent_id: agent.id,
    tenant_id: agent.tenant_id,
    token_hash: hashToken(token),
    hint: tokenHint(token),
    created_at: tx.now,
    revoked_at: null,
  };
  await insertWorkerToken(tx, row);
  return { row, token };
}

async function agentView(tx: Tx, agent: AgentRow) {
  const counts = await countAgentJobs(tx, agent.tenant_id, agent.id);
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    runtime: JSON.parse(agent.runtime),
    max_concurrency: agent.max_concurrency,
    counts: { ...counts, workers_seen_last_minute: await countWorkersSince(tx, agent.id, tx.now - 60_000) },
    last_seen_at: iso(agent.last_seen_at),
    created_at: iso(agent.created_at),
    updated_at: iso(agent.updated_at),
  };
}

function tokenView(row: WorkerTokenRow) {
  return { id: row.id, agent_id: row.agent_id, hint: row.hint, created_at: iso(row.created_at), revoked_at: iso(row.revoked_at) };
}

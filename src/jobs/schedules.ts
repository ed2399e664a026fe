import type { CreateScheduleRequest, ListSchedulesQuery, UpdateScheduleRequest } from '@agentjobs/sdk/protocol';
import { cronPattern, nextFireAfter } from '../domain/cron.js';
import { notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { iso } from '../domain/time.js';
import type { ScheduleRow } from '../store/rows.js';
import { isLiveAgent } from '../store/repo/agents-repo.js';
import { deleteSchedule, getSchedule, insertSchedule, listSchedules, updateSchedule } from '../store/repo/schedules-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';
import { decodeCursor, pageJson } from './cursor.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { prepareJob, type PreparedJob } from './new-job.js';

const q = JSON.stringify;

/** `POST /v1/schedules`: a cron schedule that dispatches one job per fire; 201 with `next_run_at`. */
export async function createSchedule(
  ctx: JobsContext,
  principal: Principal,
  input: CreateScheduleRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const timezone = input.timezone ?? 'UTC';
  cronPattern(input.cron, timezone);
  const prepared = await prepareJob(ctx, input);
  const idem = idempotencyKey ? { key: idempotencyKey, scope: 'POST /v1/schedules', body: input } : null;
  return ctx.store.write((tx) =>
    idempotent(tx, principal.tenantId, idem, async () => {
      await requireAgent(tx, principal, prepared.agentId);
      const row: ScheduleRow = {
        id: newId('schedule', tx.now),
        tenant_id: principal.tenantId,
        agent_id: prepared.agentId,
        brief: JSON.stringify(input.brief),
        cron: input.cron,
        timezone,
        overlap: input.overlap ?? 'skip',
        observers: JSON.stringify(prepared.observers),
        metadata: prepared.metadata,
        next_run_at: input.paused ? null : nextFireAfter(input.cron, timezone, tx.now),
        last_run_at: null,
        last_job_id: null,
        created_at: tx.now,
        updated_at: tx.now,
      };
      await insertSchedule(tx, row);
      tx.notify('timer', '');
      return { status: 201, body: renderSchedule(row) };
    }),
  );
}

/** `GET /v1/schedules/{id}`. */
export function getScheduleJson(ctx: JobsContext, principal: Principal, id: string): Promise<string> {
  return ctx.store.read(async (tx) => renderSchedule(await scheduleOf(tx, principal, id)));
}

/** `GET /v1/schedules`: newest first, optionally of one agent. */
export function listSchedulesJson(ctx: JobsContext, principal: Principal, query: ListSchedulesQuery): Promise<string> {
  const limit = query.limit ?? 20;
  const before = decodeCursor(query.cursor, 'schedule');
  return ctx.store.read(async (tx) => pageJson(await listSchedules(tx, principal.tenantId, query.agent_id, limit + 1, before), limit, renderSchedule));
}

/**
 * `PATCH /v1/schedules/{id}`: changes the given fields. A new cron or time zone, or a resume, computes the next
 * fire from now: fires missed while paused are not run.
 */
export async function patchSchedule(ctx: JobsContext, principal: Principal, id: string, input: UpdateScheduleRequest): Promise<string> {
  const current = await ctx.store.read((tx) => scheduleOf(tx, principal, id));
  const cron = input.cron ?? current.cron;
  const timezone = input.timezone ?? current.timezone;
  cronPattern(cron, timezone);
  const prepared = await prepareJob(ctx, {
    agent_id: input.agent_id ?? current.agent_id,
    brief: input.brief ?? JSON.parse(current.brief),
    metadata: input.metadata ?? JSON.parse(current.metadata),
    observers: input.observers ?? [],
  });
  return ctx.store.write(async (tx) => {
    const row = await scheduleOf(tx, principal, id, true);
    if (input.agent_id) await requireAgent(tx, principal, input.agent_id);
    const patch = schedulePatch(row, input, prepared, tx.now);
    await updateSchedule(tx, id, patch);
    if (patch.next_run_at !== undefined) tx.notify('timer', '');
    return renderSchedule({ ...row, ...patch, updated_at: tx.now });
  });
}

function schedulePatch(row: ScheduleRow, input: UpdateScheduleRequest, prepared: PreparedJob, now: number): Partial<ScheduleRow> {
  const patch: Partial<ScheduleRow> = {};
  if (input.agent_id) patch.agent_id = input.agent_id;
  if (input.brief) patch.brief = JSON.stringify(input.brief);
  if (input.metadata) patch.metadata = prepared.metadata;
  if (input.observers) patch.observers = JSON.stringify(prepared.observers);
  if (input.overlap) patch.overlap = input.overlap;
  if (input.cron) patch.cron = input.cron;
  if (input.timezone) patch.timezone = input.timezone;
  const paused = input.paused ?? row.next_run_at == null;
  if (input.cron || input.timezone || input.paused !== undefined) {
    patch.next_run_at = paused ? null : nextFireAfter(patch.cron ?? row.cron, patch.timezone ?? row.timezone, now);
  }
  return patch;
}

/** `DELETE /v1/schedules/{id}`: no more fires; the jobs it dispatched stay. */
export function removeSchedule(ctx: JobsContext, principal: Principal, id: string): Promise<string> {
  return ctx.store.write(async (tx) => {
    await scheduleOf(tx, principal, id, true);
    await deleteSchedule(tx, id);
    return `{"id":${q(id)},"deleted":true}`;
  });
}

/** A schedule of the caller's tenant, or 404. */
export async function scheduleOf(tx: Tx, principal: Principal, id: string, lock = false): Promise<ScheduleRow> {
  const row = await getSchedule(tx, principal.tenantId, id, lock);
  if (!row) throw notFound('schedule', id);
  return row;
}

async function requireAgent(tx: Tx, principal: Principal, agentId: string): Promise<void> {
  if (!(await isLiveAgent(tx, principal.tenantId, agentId))) throw notFound('agent', agentId);
}

/** The schedule object of SPEC §11 (observers without their secrets). */
export function renderSchedule(row: ScheduleRow): string {
  const observers = (JSON.parse(row.observers) as Array<{ url: string; events: string[]; secret: string | null }>).map((o) => ({
    type: 'webhook',
    url: o.url,
    events: o.events,
    has_secret: o.secret != null,
  }));
  return (
    `{"id":${q(row.id)},"agent_id":${q(row.agent_id)},"brief":${row.brief},"cron":${q(row.cron)},"timezone":${q(row.timezone)}` +
    `,"overlap":${q(row.overlap)},"observers":${q(observers)},"metadata":${row.metadata},"paused":${row.next_run_at == null}` +
    `,"next_run_at":${q(iso(row.next_run_at))},"last_run_at":${q(iso(row.last_run_at))},"last_job_id":${q(row.last_job_id)}` +
    `,"created_at":${q(iso(row.created_at))},"updated_at":${q(iso(row.updated_at))}}`
  );
}

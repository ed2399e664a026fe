import { isTerminal } from '../domain/job-rules.js';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { iso } from '../domain/time.js';
import type { EventRow, JobNodeRow, JobRow } from '../store/rows.js';
import { getEvent, listJobEvents, listTreeEvents } from '../store/repo/events-repo.js';
import { getJob, listTreeNodes } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import type { JobsContext, Principal } from './context.js';

/** Which events of a job to read. */
export interface EventsQuery {
  /** Only events after this event id (`?after=`, or `Last-Event-ID` on a stream). */
  after?: string;
  /** `subjobs`: the job's and all its descendants' events. */
  include?: 'subjobs';
  limit?: number;
}

/** An event as JSON text. */
export function renderEvent(row: EventRow): string {
  return (
    `{"id":"${row.id}","type":"${row.type}","job_id":"${row.job_id}","sequence":${row.sequence}` +
    `,"created_at":"${iso(row.created_at)}","data":${row.data}}`
  );
}

/** `GET /v1/jobs/{id}/events`: one page of the log, oldest first; `next_cursor` is the `after` of the next page. */
export async function listEventsJson(ctx: JobsContext, principal: Principal, jobId: string, query: EventsQuery): Promise<string> {
  const limit = query.limit ?? 100;
  return ctx.store.read(async (tx) => {
    const { job, afterSequence } = await openLog(tx, principal, jobId, query.after);
    const rows = await readEvents(tx, job, query.include === 'subjobs', afterSequence, limit);
    const next = rows.length === limit ? `"${rows[rows.length - 1].id}"` : 'null';
    return `{"data":[${rows.map(renderEvent).join(',')}],"next_cursor":${next}}`;
  });
}

/** Where a stream goes. */
export interface EventSink {
  /** Called once the job and cursor are known to be valid, before the first event. */
  ready(): void;
  send(event: EventRow): void;
  /** Called when nothing happened for 15 seconds (send a keep-alive). */
  idle(): void;
  signal: AbortSignal;
}

/**
 * Streams a job's events: first the stored ones after the cursor, then live ones as they commit, with no gap
 * and no duplicate (every batch is read from the database after the last sequence sent, and sequences of a tree
 * increase in commit order). Resolves when the job — and with `include=subjobs` every descendant — is finished
 * and all its events were sent, or when the sink's signal aborts.
 */
export async function streamEvents(
  ctx: JobsContext,
  principal: Principal,
  jobId: string,
  query: EventsQuery,
  sink: EventSink,
): Promise<void> {
  const { send, idle, signal } = sink;
  const withSubjobs = query.include === 'subjobs';
  const opened = await ctx.store.read((tx) => openLog(tx, principal, jobId, query.after));
  sink.ready();
  const rootId = opened.job.root_job_id;
  let after = opened.afterSequence;
  let wake: (() => void) | null = null;
  let pending = true;
  const unlisten = ctx.store.listen('tree', (key) => {
    if (key !== rootId) return;
    pending = true;
    wake?.();
  });
  try {
    while (!signal.aborted && !ctx.shutdown.aborted) {
      if (pending) {
        pending = false;
        const { rows, finished } = await ctx.store.read(async (tx) => {
          const job = (await getJob(tx, principal.tenantId, jobId))!;
          const done = isTerminal(job.status) && (!withSubjobs || (await subtreeFinished(tx, job)));
          return { rows: await readEvents(tx, job, withSubjobs, after, 1000), finished: done };
        });
        for (const row of rows) send(row);
        if (rows.length > 0) after = rows[rows.length - 1].sequence;
        if (rows.length === 1000) {
          pending = true;
          continue;
        }
        if (finished) return;
      }
      const woke = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 15_000);
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve(true);
        };
        wake = done;
        signal.addEventListener('abort', done, { once: true });
        if (pending) done();
      });
      wake = null;
      if (!woke) {
        idle();
        // Look again at every keep-alive: a wake-up can be lost (on PostgreSQL, a NOTIFY sent while this
        // process's LISTEN connection was reconnecting), and then this read is what delivers the events.
        pending = true;
      }
    }
  } finally {
    unlisten();
  }
}

async function openLog(tx: Tx, principal: Principal, jobId: string, after: string | undefined) {
  const job = await getJob(tx, principal.tenantId, jobId);
  if (!job) throw notFound('job', jobId);
  let afterSequence = 0;
  if (after) {
    const event = await getEvent(tx, principal.tenantId, after);
    if (!event || event.root_job_id !== job.root_job_id) {
      throw new JobsError('invalid_cursor', `after (or Last-Event-ID) '${after.slice(0, 60)}' is not an event of this job's tree.`);
    }
    afterSequence = event.sequence;
  }
  return { job, afterSequence };
}

async function readEvents(tx: Tx, job: JobRow, withSubjobs: boolean, after: number, limit: number): Promise<EventRow[]> {
  if (!withSubjobs || job.child_count === 0) return listJobEvents(tx, job.root_job_id, job.id, after, limit);
  if (job.parent_job_id == null) return listTreeEvents(tx, job.root_job_id, after, limit, null);
  const ids = subtreeIds(job.id, await listTreeNodes(tx, job.root_job_id));
  return listTreeEvents(tx, job.root_job_id, after, limit, ids);
}

async function subtreeFinished(tx: Tx, job: JobRow): Promise<boolean> {
  if (job.child_count === 0) return true;
  const nodes = await listTreeNodes(tx, job.root_job_id);
  const ids = new Set(subtreeIds(job.id, nodes));
  return nodes.every((n) => !ids.has(n.id) || isTerminal(n.status));
}

/** The id of a job and of every descendant, from the nodes of its tree. */
export function subtreeIds(jobId: string, nodes: JobNodeRow[]): string[] {
  const children = new Map<string, string[]>();
  for (const n of nodes) {
    const list = children.get(n.parent_job_id!) ?? [];
    list.push(n.id);
    children.set(n.parent_job_id!, list);
  }
  const out: string[] = [];
  const stack = [jobId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    out.push(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

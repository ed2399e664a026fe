import { iso } from '../domain/time.js';
import type { JobNodeRow, JobRow, StoredObserver } from '../store/rows.js';
import { listTreeNodes } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';

const q = JSON.stringify;

/**
 * The job object of SPEC §4 as JSON text. Stored JSON columns (brief, metadata, result, error, progress,
 * waiting_for, artifacts) are spliced in as they are: they were serialised once when written, so reads and webhooks never parse and
 * re-serialise them.
 */
export function renderJob(row: JobRow, tree: JobNodeRow[] = []): string {
  return (
    `{"id":${q(row.id)},"agent_id":${q(row.agent_id)},"status":${q(row.status)}` +
    `,"brief":${row.brief},"result":${row.result ?? 'null'},"error":${row.error ?? 'null'}` +
    `,"progress":${row.progress ?? 'null'},"subjobs":${renderSubjobs(row.id, tree)}` +
    `,"tokens_used":${row.tokens_total},"tokens_used_self":${row.tokens_self}` +
    `,"attempt":${row.attempt},"max_attempts":${row.max_attempts}` +
    `,"parent_job_id":${q(row.parent_job_id)},"root_job_id":${q(row.root_job_id)},"depth":${row.depth}` +
    `,"on_parent_end":${q(row.on_parent_end)},"metadata":${row.metadata},"observers":${renderObservers(row)}` +
    `,"created_at":${q(iso(row.created_at))},"started_at":${q(iso(row.started_at))}` +
    `,"completed_at":${q(iso(row.completed_at))},"cancel_requested_at":${q(iso(row.cancel_requested_at))}` +
    `,"deadline_at":${q(iso(row.deadline_at))},"waiting_for":${row.waiting_for ?? 'null'},"artifacts":${row.artifacts}` +
    `,"scheduled_for":${q(iso(row.scheduled_for))},"schedule_id":${q(row.schedule_id)},"batch_id":${q(row.batch_id)}` +
    `,"rerun_of":${q(row.rerun_of)}}`
  );
}

/** The job object with its whole subjob tree, read in the same transaction. */
export async function loadJobJson(tx: Tx, row: JobRow): Promise<string> {
  if (row.child_count === 0) return renderJob(row);
  return renderJob(row, await listTreeNodes(tx, row.root_job_id));
}

/** The observers registered on this job itself (not its ancestors'), without secrets. */
function renderObservers(row: JobRow): string {
  if (row.observers === '[]') return '[]';
  const own = (JSON.parse(row.observers) as StoredObserver[])
    .filter((o) => o.job_id === row.id)
    .map((o) => ({ type: 'webhook', url: o.url, events: o.events, has_secret: o.secret != null }));
  return q(own);
}

/** The nested `subjobs` array of a job from the rows of its tree (oldest first at every level). */
function renderSubjobs(jobId: string, tree: JobNodeRow[]): string {
  if (tree.length === 0) return '[]';
  const children = new Map<string, JobNodeRow[]>();
  for (const node of tree) {
    const list = children.get(node.parent_job_id!);
    if (list) list.push(node);
    else children.set(node.parent_job_id!, [node]);
  }
  const render = (id: string): string => {
    const list = children.get(id);
    if (!list) return '[]';
    return `[${list
      .map(
        (n) =>
          `{"id":${q(n.id)},"agent_id":${q(n.agent_id)},"status":${q(n.status)},"created_at":${q(iso(n.created_at))}` +
          `,"completed_at":${q(iso(n.completed_at))},"tokens_used":${n.tokens_total},"subjobs":${render(n.id)}}`,
      )
      .join(',')}]`;
  };
  return render(jobId);
}

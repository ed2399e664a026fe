import { JOB_ERROR_CODES } from '@agentjobs/sdk/protocol';
import { isTerminal } from '../domain/job-rules.js';
import type { JobRow } from '../store/rows.js';
import { addTokens, getAncestors, getJobById, updateJob } from '../store/repo/jobs-repo.js';
import type { Tx } from '../store/store.js';
import { transition } from './transition.js';

/** The jobs whose token budget a report pushed over the edge. */
export interface TokenReport {
  job: JobRow;
  /** Ids of jobs (this one or ancestors) now over their `max_tokens`. */
  overBudget: string[];
}

/**
 * Records a worker's running total of tokens for its job. The total replaces the previous one only when it
 * is larger (a retried request never counts twice); the difference is added to the subtree totals of the job
 * and every ancestor, and every budget on that chain is checked.
 */
export async function recordTokens(tx: Tx, job: JobRow, total: number | undefined): Promise<TokenReport> {
  if (total == null || total <= job.tokens_self) return { job, overBudget: [] };
  const delta = total - job.tokens_self;
  const ancestorIds = job.path === '' ? [] : job.path.split(',');
  await updateJob(tx, job.id, { tokens_self: total });
  await addTokens(tx, [job.id, ...ancestorIds], delta);
  const next: JobRow = { ...job, tokens_self: total, tokens_total: job.tokens_total + delta };
  const overBudget: string[] = [];
  if (next.token_budget != null && next.tokens_total > next.token_budget) overBudget.push(job.id);
  for (const ancestor of await getAncestors(tx, ancestorIds)) {
    if (ancestor.token_budget != null && ancestor.tokens_total > ancestor.token_budget && (ancestor.status === 'running' || ancestor.status === 'queued'))
      overBudget.push(ancestor.id);
  }
  return { job: next, overBudget };
}

/**
 * Fails every job a token report pushed over its budget (`token_budget_exceeded`); their leases end with it
 * and their unfinished descendants are cancelled. Resolves to true when `report.job` itself was failed.
 */
export async function enforceBudgets(tx: Tx, report: TokenReport): Promise<boolean> {
  let selfFailed = false;
  for (const id of report.overBudget) {
    const row = id === report.job.id ? report.job : await getJobById(tx, id, true);
    if (!row || isTerminal(row.status)) continue;
    const error = JSON.stringify({
      code: JOB_ERROR_CODES.tokenBudgetExceeded,
      message: `The job and its descendants used ${row.tokens_total} tokens; max_tokens is ${row.token_budget}.`,
    });
    await transition(tx, row, { to: 'failed', patch: { error } });
    if (id === report.job.id) selfFailed = true;
  }
  return selfFailed;
}

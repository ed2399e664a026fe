import { iso } from '../domain/time.js';
import type { JobMessageRow } from '../store/rows.js';

/** A message sent to a job as JSON text (SPEC §9.2); its content is spliced in as stored. */
export function renderJobMessage(row: JobMessageRow): string {
  return `{"id":"${row.id}","job_id":"${row.job_id}","content":${row.content},"created_at":"${iso(row.created_at)}"}`;
}

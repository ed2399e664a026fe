import { iso } from '../domain/time.js';
import type { InputRequestRow } from '../store/rows.js';

const q = JSON.stringify;

/**
 * An input request as JSON text (SPEC §9.1). Its JSON columns (input_schema, input, tool_input) are spliced in as
 * stored. The same text is kept in the job's `waiting_for` while the request is pending.
 */
export function renderInputRequest(row: InputRequestRow): string {
  return (
    `{"id":${q(row.id)},"job_id":${q(row.job_id)},"kind":${q(row.kind)},"prompt":${q(row.prompt)}` +
    `,"input_schema":${row.input_schema ?? 'null'},"status":${q(row.status)}` +
    `,"requested_at":${q(iso(row.requested_at))},"expires_at":${q(iso(row.expires_at))},"answered_at":${q(iso(row.answered_at))}` +
    `,"input":${row.input ?? 'null'},"tool":${q(row.tool)},"tool_input":${row.tool_input ?? 'null'}}`
  );
}

import { listPendingInputRequests, updateInputRequest } from '../store/repo/input-requests-repo.js';
import type { Tx } from '../store/store.js';

/**
 * Ends the pending input request of a job that ends while it waits: `expired` when the request's own expiry
 * ended the job, `cancelled` otherwise (a cancel, a deadline). An answer sent afterwards gets 409 `no_pending_input`.
 */
export async function closePendingInput(tx: Tx, jobId: string, status: 'expired' | 'cancelled'): Promise<void> {
  for (const request of await listPendingInputRequests(tx, jobId)) await updateInputRequest(tx, request.id, { status });
}

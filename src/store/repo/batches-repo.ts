import type { BatchRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow } from './sql.js';

/** Stores a new batch. */
export function insertBatch(tx: Tx, row: BatchRow): Promise<number> {
  return insertRow(tx, 'batches', row);
}

/** A batch of this tenant. */
export function getBatch(tx: Tx, tenantId: string, id: string): Promise<BatchRow | undefined> {
  return tx.get<BatchRow>('SELECT * FROM batches WHERE id = ? AND tenant_id = ?', [id, tenantId]);
}

/**
 * Counts one more ended job of a batch and, when it is the last, sets `completed_at` in the same statement.
 * The row's lock orders the ends of one batch (PostgreSQL), so exactly one of them completes it.
 */
export function countBatchEnd(tx: Tx, id: string): Promise<BatchRow | undefined> {
  return tx.get<BatchRow>(
    `UPDATE batches SET ended = ended + 1, completed_at = CASE WHEN ended + 1 >= total THEN ? ELSE completed_at END
      WHERE id = ? RETURNING *`,
    [tx.now, id],
  );
}

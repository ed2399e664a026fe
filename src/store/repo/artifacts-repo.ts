import type { ArtifactRow } from '../rows.js';
import type { Tx } from '../store.js';
import { insertRow } from './sql.js';

/** Stores an artifact with its content. */
export function insertArtifact(tx: Tx, row: ArtifactRow): Promise<number> {
  return insertRow(tx, 'artifacts', row);
}

/** An artifact of one job, with its content. */
export function getArtifact(tx: Tx, jobId: string, id: string): Promise<ArtifactRow | undefined> {
  return tx.get<ArtifactRow>('SELECT * FROM artifacts WHERE id = ? AND job_id = ?', [id, jobId]);
}

import type { Tx } from '../store.js';

// Statements built from a column list are cached by that list, so each shape is built (and prepared) once.
const insertCache = new Map<string, string>();
const updateCache = new Map<string, string>();

/** Inserts one row; the columns are the keys of `row`. */
export function insertRow(tx: Tx, table: string, row: object): Promise<number> {
  const columns = Object.keys(row);
  const cacheKey = `${table}|${columns.join(',')}`;
  let sql = insertCache.get(cacheKey);
  if (!sql) {
    sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
    insertCache.set(cacheKey, sql);
  }
  return tx.run(sql, Object.values(row));
}

/** Updates the given columns of the row with this id. */
export function updateRow(tx: Tx, table: string, id: string, patch: object): Promise<number> {
  const columns = Object.keys(patch);
  if (columns.length === 0) return Promise.resolve(0);
  const cacheKey = `${table}|${columns.join(',')}`;
  let sql = updateCache.get(cacheKey);
  if (!sql) {
    sql = `UPDATE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
    updateCache.set(cacheKey, sql);
  }
  return tx.run(sql, [...Object.values(patch), id]);
}

/** `?, ?, ?` for an IN list of n values. */
export function placeholders(n: number): string {
  return new Array(n).fill('?').join(', ');
}

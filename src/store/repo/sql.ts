import type { Tx } from '../store.js';

// An insert statement per table, built from the first row inserted: every row of a table is a full row type
// (TypeScript sees to it), so later rows are bound by column name, whatever the order of their keys.
const inserts = new Map<string, { sql: string; columns: string[] }>();
// Updates change varying columns: their statements are cached by the list of columns.
const updateCache = new Map<string, string>();

/** Inserts one row; its columns are the keys of `row`. */
export function insertRow(tx: Tx, table: string, row: object): Promise<number> {
  let insert = inserts.get(table);
  if (!insert) {
    const columns = Object.keys(row);
    insert = { sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns };
    inserts.set(table, insert);
  }
  const values = insert.columns.map((c) => (row as Record<string, unknown>)[c]);
  return tx.run(insert.sql, values);
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

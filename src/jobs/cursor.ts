import { isId, type IdKind } from '@agentjobs/sdk/protocol';
import { JobsError } from '../domain/jobs-error.js';

/**
 * Cursors are opaque to clients: the id of the last item of a page, encoded. Ids are not secret and every
 * query is scoped by tenant, so a cursor from another tenant can only page through one's own objects.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId).toString('base64url');
}

/** The id inside a cursor, or 400 `invalid_cursor`. */
export function decodeCursor(cursor: string | undefined, kind: IdKind): string | null {
  if (cursor == null) return null;
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!isId(kind, id)) {
    throw new JobsError('invalid_cursor', 'cursor is not valid: pass the next_cursor of the previous page unchanged.');
  }
  return id;
}

/**
 * `{"data": […], "next_cursor": …}`. Lists fetch `limit + 1` rows: the extra one only tells whether a next
 * page exists, whose cursor is the id of the last row shown.
 */
export function pageJson<T extends { id: string }>(rows: T[], limit: number, render: (row: T) => string): string {
  const shown = rows.length > limit ? rows.slice(0, limit) : rows;
  const next = rows.length > limit ? JSON.stringify(encodeCursor(shown[shown.length - 1].id)) : 'null';
  return `{"data":[${shown.map(render).join(',')}],"next_cursor":${next}}`;
}

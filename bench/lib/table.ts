/**
 * Prints aligned text tables, for the results summary on stdout.
 */

/** A column: header text and whether it is right-aligned (numbers). */
export interface Column {
  /** Header text. */
  header: string;
  /** Right-align the cells (numbers). @default false */
  right?: boolean;
}

/**
 * Renders rows as an aligned table with a header underline; cells are already-formatted strings.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (columns[i]?.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.header)),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(row)),
  ].join('\n');
}

/**
 * Formats a figure for the table: thousands separators for large values, 3 significant digits
 * for small ones (latencies in ms), `—` for a missing value.
 */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

/** Formats a ratio as e.g. `0.63×`. */
export function formatRatio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`;
}

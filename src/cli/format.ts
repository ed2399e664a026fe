/** Formatting of human output: durations, tokens, times, tables. */
import { stripAnsi } from './style.js';

/** "850ms", "4.2s", "3m04s", "2h10m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** "9,830". */
export function formatTokens(n: number | null | undefined): string {
  return (n ?? 0).toLocaleString('en-US');
}

/** "2026-03-19 12:04:33" in UTC, the way logs show it; "—" when absent. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** "12:04:33.120" (UTC): event times, where the order within a second matters. */
export function formatClock(iso: string): string {
  return iso.slice(11, 23);
}

/** "3s ago", "5m ago", "2h ago", "4d ago". */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** The first line of a text, cut to `max` characters. */
export function headline(text: string | null | undefined, max: number): string {
  const first = String(text ?? '').split('\n')[0];
  return first.length > max ? `${first.slice(0, Math.max(1, max - 1))}…` : first;
}

/** Visible width of a string (ANSI codes excluded). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}

/** Pads to a visible width (ANSI codes do not count). */
export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const gap = Math.max(0, width - visibleWidth(text));
  return align === 'left' ? text + ' '.repeat(gap) : ' '.repeat(gap) + text;
}

/** A column of {@link table}. */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  /** Cut longer values to this many characters. */
  max?: number;
}

/**
 * A plain-text table: a header row and one row per item, columns separated by two spaces. Values may carry
 * ANSI colour; widths are measured without it.
 */
export function table<T>(rows: T[], columns: Column<T>[], paintHeader: (s: string) => string = (s) => s): string[] {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const value = c.value(row);
      return c.max && visibleWidth(value) > c.max ? headline(stripAnsi(value), c.max) : value;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => visibleWidth(r[i]))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 && columns[i].align !== 'right' ? v : pad(v, widths[i], columns[i].align)))
      .join('  ')
      .trimEnd();
  return [paintHeader(line(columns.map((c) => c.header))), ...cells.map(line)];
}

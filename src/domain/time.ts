/** Milliseconds since the Unix epoch; every time inside the server is one of these. */
export type Millis = number;

// The last time formatted: the writes of one group commit share their transaction's time, and their answers
// format it once.
let lastMs: Millis = Number.NaN;
let lastIso = '';

/** RFC 3339 UTC with milliseconds, or null. */
export function iso(ms: Millis): string;
export function iso(ms: Millis | null | undefined): string | null;
export function iso(ms: Millis | null | undefined): string | null {
  if (ms == null) return null;
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** Parses an RFC 3339 timestamp into milliseconds, or returns null when it is not one. */
export function parseIso(value: string): Millis | null {
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `5s`, `5m`, `2h`, `1d` (a bare number is seconds).
 * @throws Error with a message naming the value when it is not a duration.
 */
export function parseDuration(value: string): Millis {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) throw new Error(`'${value}' is not a duration: use a number with a unit, e.g. 500ms, 5s, 5m, 2h, 1d`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']);
}

/** Parses a comma-separated list of durations (`5s,5m,30m`). */
export function parseDurationList(value: string): Millis[] {
  return value
    .split(',')
    .filter((part) => part.trim() !== '')
    .map(parseDuration);
}

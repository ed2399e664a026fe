// Formatting shared by the pages: times, durations, tokens, statuses, short ids.

/** "12:04:33" in local time, with the full ISO time as a tooltip elsewhere. */
export function clock(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** "12:04:33.120": event times, where the order of things within a second matters. */
export function clockMs(iso) {
  if (!iso) return '';
  return `${clock(iso)}.${String(new Date(iso).getMilliseconds()).padStart(3, '0')}`;
}

/** "3 s ago", "5 min ago", or a date for old times. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** "850 ms", "4.2 s", "3 m 04 s", "2 h 10 m". */
export function duration(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** How long a job has run: from its start (or creation) to its end (or now). */
export function elapsed(job, now = Date.now()) {
  const start = Date.parse(job.started_at ?? job.created_at);
  const end = job.completed_at ? Date.parse(job.completed_at) : now;
  return end - start;
}

/** "1,234" tokens. */
export function tokens(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '0';
}

/** "job_01jq…x7k2": enough of an id to recognise it, the full id in a title. */
export function shortId(id) {
  return id && id.length > 16 ? `${id.slice(0, 9)}…${id.slice(-4)}` : id ?? '';
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Pretty JSON for display (in a <pre>, as text). */
export function json(value) {
  return JSON.stringify(value, null, 2);
}

/** The first line of an objective, cut to fit a list row. */
export function headline(text, max = 120) {
  const first = String(text ?? '').split('\n')[0];
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

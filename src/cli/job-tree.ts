/**
 * The job tree as text, for `watch` and `get`: one line per job with its agent, status, a progress bar,
 * tokens and elapsed time, drawn with box-drawing branches. Pure: the caller passes the clock, the names and
 * what it learnt from events, so the same frame comes out of the same inputs.
 */
import type { Job, JobEvent } from '@agentjobs/sdk/protocol';
import { formatDuration, formatTokens, headline } from './format.js';
import { stripAnsi, type Style } from './style.js';

/** What events tell about one job of the tree that the tree nodes do not carry. */
export interface NodeLive {
  percent: number | null;
  message: string | null;
  /** When the job first started running (from its first `job.running` event). */
  startedAt: string | null;
  attempt: number;
  /** The question the job waits on, while it waits for a person. */
  waiting?: { kind: string; prompt: string; tool: string | null } | null;
  /** The end of the job's output so far (its `default` stream and any other, as they came). */
  output?: string;
}

/** How much of a job's output `watch` keeps to show its last lines. */
const OUTPUT_KEPT = 4000;

/** Updates what is known of the tree's jobs from one event. */
export function applyEvent(live: Map<string, NodeLive>, event: JobEvent): void {
  const node = live.get(event.job_id) ?? { percent: null, message: null, startedAt: null, attempt: 1 };
  const data = (event.data ?? {}) as { percent?: number | null; message?: string | null; attempt?: number; request?: NodeLive['waiting']; delta?: string };
  if (event.type === 'job.input_required') {
    node.waiting = data.request ? { kind: data.request.kind, prompt: data.request.prompt, tool: data.request.tool ?? null } : null;
  } else if (event.type === 'job.input_received' || /^job\.(completed|failed|cancelled)$/.test(event.type)) {
    node.waiting = null;
  } else if (event.type === 'job.output') {
    node.output = ((node.output ?? '') + (data.delta ?? '')).slice(-OUTPUT_KEPT);
  } else if (event.type === 'job.progress') {
    node.percent = data.percent ?? node.percent;
    node.message = data.message ?? null;
  } else if (event.type === 'job.running') {
    node.startedAt ??= event.created_at;
    node.attempt = data.attempt ?? node.attempt;
  } else if (event.type === 'job.queued' && data.attempt) {
    // Back in the queue for another attempt: its progress starts over.
    node.attempt = data.attempt;
    node.percent = null;
    node.message = null;
  }
  live.set(event.job_id, node);
}

/** Options of {@link renderTree}. */
export interface TreeOptions {
  name: (agentId: string) => string;
  live: Map<string, NodeLive>;
  now: number;
  style: Style;
  /** Show elapsed time (needs start times from events; `get` has none for subjobs). @default true */
  elapsed?: boolean;
  /** Cut every line to this many visible characters (a terminal's width), so no line wraps. */
  width?: number;
}

const GLYPH: Record<string, string> = { queued: '○', running: '●', completed: '✓', failed: '✗', cancelled: '⊘' };
const BAR = 20;

/** One job of the tree with what the root job object adds (its own progress and start). */
interface Node {
  id: string;
  agent_id: string;
  status: string;
  created_at: string;
  completed_at: string | null;
  tokens_used: number;
  subjobs: Node[];
  started_at?: string | null;
  progress?: Job['progress'];
}

/** Renders the tree of `job` (the job itself, then its subjobs, oldest first) as lines. */
export function renderTree(job: Job, options: TreeOptions): string[] {
  const rows: Array<{ prefix: string; node: Node; messagePrefix: string }> = [];
  const walk = (node: Node, prefix: string, childPrefix: string) => {
    rows.push({ prefix, node, messagePrefix: childPrefix + (node.subjobs.length ? '│  ' : '   ') });
    node.subjobs.forEach((child, i) => {
      const last = i === node.subjobs.length - 1;
      walk(child, childPrefix + (last ? '└─ ' : '├─ '), childPrefix + (last ? '   ' : '│  '));
    });
  };
  walk(job, '', '');
  const labels = rows.map(({ prefix, node }) => `${prefix}${GLYPH[node.status] ?? '?'} ${options.name(node.agent_id)}`);
  const labelWidth = Math.min(40, Math.max(...labels.map((l) => [...l].length)));
  const lines: string[] = [];
  rows.forEach(({ node, messagePrefix }, i) => {
    const { style } = options;
    const live = options.live.get(node.id);
    const percent = node.status === 'completed' ? 100 : (node.progress?.percent ?? live?.percent ?? null);
    const message = node.progress?.message ?? live?.message ?? null;
    const label = fitText(labels[i], labelWidth).padEnd(labelWidth);
    const filled = percent == null ? 0 : Math.round((Math.max(0, Math.min(100, percent)) / 100) * BAR);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR - filled)}`;
    const cells = [
      label,
      style.status(node.status, node.status.padEnd(9)),
      node.status === 'completed' ? style.green(bar) : node.status === 'running' ? style.blue(bar) : style.dim(bar),
      (percent == null ? '—' : `${Math.round(percent)}%`).padStart(4),
      `${formatTokens(node.tokens_used)} tok`.padStart(11),
    ];
    if (options.elapsed !== false) cells.push(elapsedOf(node, live, options.now).padStart(7));
    cells.push(style.dim(node.id));
    lines.push(cells.join('  '));
    if (live?.waiting && node.status === 'running') {
      const what = live.waiting.kind === 'approval' ? `waits for approval${live.waiting.tool ? ` of ${live.waiting.tool}` : ''}` : 'waits for input';
      lines.push(`${messagePrefix}  ${style.yellow(`⏸ ${what}: ${headline(live.waiting.prompt, 90)}`)}`);
    } else if (message && (node.status === 'running' || node.status === 'queued')) {
      lines.push(style.dim(`${messagePrefix}  ${headline(message, 100)}`));
    }
  });
  return options.width ? lines.map((line) => fitLine(line, options.width!)) : lines;
}

/** Time from first start (or dispatch) to the end (or now); a queued job shows "queued". */
function elapsedOf(node: Node, live: NodeLive | undefined, now: number): string {
  if (node.status === 'queued') return '—';
  const start = Date.parse(node.started_at ?? live?.startedAt ?? node.created_at);
  const end = node.completed_at ? Date.parse(node.completed_at) : now;
  return formatDuration(end - start);
}

function fitText(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text;
}

/**
 * Cuts a line to `width` visible characters, keeping its colour codes balanced, so a terminal never wraps it
 * (a wrapped line would throw off the redraw, which moves the cursor up by the number of lines drawn).
 */
export function fitLine(line: string, width: number): string {
  if ([...stripAnsi(line)].length <= width) return line;
  let out = '';
  let visible = 0;
  // Walk the line, copying escape sequences whole and counting only visible characters.
  const parts = line.split(/(\x1b\[[0-9;?]*[A-Za-z])/);
  for (const part of parts) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      if (visible >= width - 1) break;
      out += ch;
      visible += 1;
    }
  }
  return `${out}…${line.includes('\x1b[') ? '\x1b[0m' : ''}`;
}

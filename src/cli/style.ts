/**
 * ANSI colour for human output, on only when it is read by a person: stdout is a terminal, `NO_COLOR` is not
 * set (https://no-color.org), `TERM` is not `dumb`, and the output is not `--json`. `FORCE_COLOR` turns it on.
 */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  cyan(text: string): string;
  /** The colour of a job status word. */
  status(status: string, text?: string): string;
}

/** Whether colour is wanted on this output. */
export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean, json = false): boolean {
  if (json) return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

/** A style that paints when `enabled`, and returns the text untouched otherwise. */
export function makeStyle(enabled: boolean): Style {
  const paint = (open: number, close: number) => (text: string) => (enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  const red = paint(31, 39);
  const green = paint(32, 39);
  const yellow = paint(33, 39);
  const blue = paint(34, 39);
  const dim = paint(2, 22);
  return {
    enabled,
    bold: paint(1, 22),
    dim,
    red,
    green,
    yellow,
    blue,
    cyan: paint(36, 39),
    status: (status, text = status) =>
      (({ completed: green, failed: red, cancelled: yellow, running: blue, queued: dim }) as Record<string, (s: string) => string>)[status]?.(text) ?? text,
  };
}

/** Removes ANSI escape sequences (to measure what a terminal shows). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** Values given on the command line: `@file` arguments, JSON, `key=value` pairs. */
import { readFile } from 'node:fs/promises';
import { CliError } from './exit-codes.js';
import type { Io } from './io.js';

/**
 * A text argument: `@path` reads a file, `@-` reads stdin, `@@…` is a literal text starting with `@`, and
 * anything else is the text itself.
 */
export async function readTextArgument(flag: string, value: string, io: Io): Promise<string> {
  if (value.startsWith('@@')) return value.slice(1);
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  if (path === '-') {
    if (!io.readStdin) throw new CliError(`${flag} @- needs a readable stdin`);
    return io.readStdin();
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A JSON argument, inline or `@file`; must be an object. */
export async function readJsonArgument(flag: string, value: string, io: Io): Promise<Record<string, unknown>> {
  const text = await readTextArgument(flag, value, io);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`${flag} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Keys whose value is a list of names: `allowed_tools=web_search,fetch` is accepted as well as JSON. */
const LIST_KEYS = new Set(['allowed_tools', 'denied_tools']);

/**
 * `key=value` pairs. With `json`, a value that parses as JSON is taken as JSON (`max_tokens=5000` is a number,
 * `allowed_tools=["a"]` a list) and anything else as a string; list keys also take comma-separated names.
 */
export function parsePairs(flag: string, pairs: string[], options: { json: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${flag} takes key=value, got '${pair}'`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (!options.json) {
      out[key] = raw;
      continue;
    }
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      if (LIST_KEYS.has(key)) value = raw.split(',').map((s) => s.trim()).filter(Boolean);
    }
    if (LIST_KEYS.has(key) && typeof value === 'string') value = [value];
    out[key] = value;
  }
  return out;
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AgentJobsClient, AgentJobsError, type Agent } from '@agentjobs/sdk/client';
import { isId } from '@agentjobs/sdk/protocol';
import { CliError, EXIT } from './exit-codes.js';
import { colourWanted, makeStyle, type Style } from './style.js';
import type { Io } from './io.js';
import { dataDirOption } from './store-options.js';

/** The options every client command takes. */
export interface ClientFlags {
  url: string;
  apiKey?: string;
  dataDir: string;
  json?: boolean;
}

/** What a client command's action gets. */
export interface ClientContext {
  client: AgentJobsClient;
  io: Io;
  /** Colour for human output (off with --json, off the terminal, with NO_COLOR). */
  style: Style;
  json: boolean;
  /** Writes a line to stdout. */
  out(line?: string): void;
  /** Writes a line to stderr (hints and progress that must not pollute piped output). */
  note(line?: string): void;
  /** Prints a value as JSON on stdout (pretty, so it is readable and still parses). */
  printJson(value: unknown): void;
  /** The base URL of the server. */
  url: string;
}

/**
 * Adds the options of a command that talks to a server: `--url` (`AGENTJOBS_URL`), `--api-key`
 * (`AGENTJOBS_API_KEY`), `--data-dir` (where `admin.key` is looked for when no key is given) and `--json`.
 */
export function withClientOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'server URL').env('AGENTJOBS_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--api-key <key>', 'API key (ak_…); default: <data-dir>/admin.key').env('AGENTJOBS_API_KEY'))
    .addOption(dataDirOption())
    .option('--json', 'print JSON for scripts instead of text');
}

/**
 * Runs a client command's body and turns its outcome into an exit code: what the body returns, or for an
 * error, 3 with the API's error code, 4 when the server cannot be reached, 64 for bad usage.
 */
export async function runClient(
  io: Io,
  flags: ClientFlags,
  setExit: (code: number) => void,
  body: (ctx: ClientContext) => Promise<number | void>,
): Promise<void> {
  const json = Boolean(flags.json);
  try {
    const client = new AgentJobsClient({ url: checkUrl(flags.url), apiKey: findApiKey(flags) });
    const ctx: ClientContext = {
      client,
      io,
      style: makeStyle(colourWanted(io.env, io.isTTY, json)),
      json,
      out: (line = '') => {
        io.out(`${line}\n`);
      },
      note: (line = '') => {
        io.err(`${line}\n`);
      },
      printJson: (value) => {
        io.out(`${JSON.stringify(value, null, 2)}\n`);
      },
      url: flags.url,
    };
    const code = await body(ctx);
    setExit(typeof code === 'number' ? code : EXIT.ok);
  } catch (error) {
    setExit(reportError(io, error, json, flags.url));
  }
}

/** Prints an error in one line (and, with --json, the API's error body on stdout); returns the exit code. */
export function reportError(io: Io, error: unknown, json: boolean, url: string): number {
  if (error instanceof CliError) {
    io.err(`agentjobs: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof AgentJobsError) {
    if (error.code === 'network_error') {
      io.err(`agentjobs: cannot reach the server at ${url}: ${error.message}\n  Is it running? Start it with 'agentjobs serve', or pass --url / set AGENTJOBS_URL.\n`);
      if (json) io.out(`${JSON.stringify({ error: { code: 'network_error', message: error.message } })}\n`);
      return EXIT.unreachable;
    }
    io.err(`agentjobs: ${error.code} (HTTP ${error.status}): ${error.message}\n`);
    if (json) io.out(`${JSON.stringify({ error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } })}\n`);
    return EXIT.apiError;
  }
  const message = error instanceof Error ? error.message : String(error);
  // A stream that broke half-way (the server stopped) is a connection problem, not a bug.
  if (error instanceof TypeError && /fetch failed|terminated|socket/i.test(message)) {
    io.err(`agentjobs: the connection to ${url} broke: ${message}\n`);
    return EXIT.unreachable;
  }
  // Not 1: a script waiting on a job must never mistake a bug of the CLI for a failed job.
  io.err(`agentjobs: unexpected error: ${error instanceof Error && error.stack ? error.stack : message}\n`);
  return EXIT.internal;
}

function checkUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    return url;
  } catch {
    throw new CliError(`--url must be an http(s) URL such as http://127.0.0.1:8080, got '${url}'`);
  }
}

/** The API key: --api-key / AGENTJOBS_API_KEY, else the `admin.key` the server wrote on its first start. */
export function findApiKey(flags: Pick<ClientFlags, 'apiKey' | 'dataDir'>): string {
  if (flags.apiKey) return flags.apiKey.trim();
  const path = join(flags.dataDir, 'admin.key');
  try {
    const key = readFileSync(path, 'utf8').trim();
    if (key) return key;
  } catch {
    // reported below
  }
  throw new CliError(`no API key: pass --api-key, set AGENTJOBS_API_KEY, or run where ${path} exists (--data-dir)`);
}

/**
 * Finds an agent by id (`agt_…`) or by name, so people can type `dispatch researcher`. A name that several
 * agents share is refused with their ids, rather than guessing.
 */
export async function resolveAgent(client: AgentJobsClient, ref: string): Promise<Agent> {
  if (isId('agent', ref)) return client.getAgent(ref);
  const matches: Agent[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listAgents({ limit: 100, cursor });
    matches.push(...page.data.filter((a) => a.name === ref));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new CliError(`no agent named '${ref}': 'agentjobs agents list' shows them`, EXIT.apiError);
  throw new CliError(`${matches.length} agents are named '${ref}'; use an id: ${matches.map((a) => a.id).join(', ')}`, EXIT.usage);
}

/** Agent names by id, for human output: one list read, then single reads for ids it did not cover. */
export class AgentNames {
  private readonly names = new Map<string, string>();
  private listed = false;

  constructor(private readonly client: AgentJobsClient) {}

  /** Makes sure the names of these agent ids are known (ids of deleted agents stay ids). */
  async load(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.names.has(id));
    if (missing.length === 0) return;
    if (!this.listed) {
      this.listed = true;
      const page = await this.client.listAgents({ limit: 100 });
      for (const agent of page.data) this.names.set(agent.id, agent.name);
    }
    for (const id of missing.filter((id) => !this.names.has(id))) {
      try {
        this.names.set(id, (await this.client.getAgent(id)).name);
      } catch {
        this.names.set(id, id);
      }
    }
  }

  /** The name of an agent, or its id when unknown. */
  name(id: string): string {
    return this.names.get(id) ?? id;
  }
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses a whole number option within bounds; anything else is a usage error (exit 64) naming the range. */
export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`a whole number from ${min} to ${max} is expected.`);
    return n;
  };
}

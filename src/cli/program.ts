import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { serveCommand } from './serve-command.js';
import { keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';
import { agentsCommand } from './agents-command.js';
import { dispatchCommand } from './dispatch-command.js';
import { jobsCommands } from './jobs-command.js';
import { watchCommand } from './watch-command.js';
import { eventsCommand } from './events-command.js';
import { deliveriesCommand } from './deliveries-command.js';
import { EXIT } from './exit-codes.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Where a command writes; tests and the CLI itself pass the process streams. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** The terminal's size, when stdout is one (`watch` fits its frame to it). */
  size?: () => { columns: number; rows: number };
  /** Reads all of stdin (`--context @-`). */
  readStdin?: () => Promise<string>;
}

/** The `agentjobs` command. Resolves to the exit code. */
export async function runCli(argv: string[], io: Io = processIo()): Promise<number | undefined> {
  const program = new Command('agentjobs')
    .description('Dispatch jobs to AI agents: structured briefs, asynchronous runs, signed webhooks, observable job trees.')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    // Usage errors become exit code 64 (below) instead of commander's process.exit(1), which would be mistaken
    // for a failed job. Set before the subcommands are added: they inherit it.
    .exitOverride();
  let exitCode: number | undefined;
  const setExit = (code: number) => (exitCode = code);
  serveCommand(program, io);
  agentsCommand(program, io, setExit);
  dispatchCommand(program, io, setExit);
  jobsCommands(program, io, setExit);
  watchCommand(program, io, setExit);
  eventsCommand(program, io, setExit);
  deliveriesCommand(program, io, setExit);
  keysCommand(program, io, setExit);
  migrateCommand(program, io);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end with code 0; every other commander error is bad usage.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return exitCode;
}

function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    size: () => ({ columns: process.stdout.columns ?? 100, rows: process.stdout.rows ?? 40 }),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** A `--data-dir` option (`AGENTJOBS_DATA_DIR`), shared by the commands that open the store. */
export function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'folder of the SQLite file and admin.key').env('AGENTJOBS_DATA_DIR').default('./data');
}

/** A `--database-url` option (`DATABASE_URL`, `AGENTJOBS_DATABASE_URL`): PostgreSQL instead of SQLite. */
export function databaseUrlOption(): Option {
  return new Option('--database-url <url>', 'postgres://… to use PostgreSQL instead of the SQLite file (also DATABASE_URL)').env(
    'AGENTJOBS_DATABASE_URL',
  );
}

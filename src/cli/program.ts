import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { serveCommand } from './serve-command.js';
import { keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Where a command writes; tests and the CLI itself pass the process streams. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

/** The `agentjobs` command. Resolves to the exit code. */
export async function runCli(argv: string[], io: Io = processIo()): Promise<number | undefined> {
  const program = new Command('agentjobs')
    .description('Dispatch jobs to AI agents: structured briefs, asynchronous runs, signed webhooks, observable job trees.')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  let exitCode: number | undefined;
  const setExit = (code: number) => (exitCode = code);
  serveCommand(program, io);
  keysCommand(program, io, setExit);
  migrateCommand(program, io);
  await program.parseAsync(argv);
  return exitCode;
}

function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
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

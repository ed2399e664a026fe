import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { serveCommand } from './serve-command.js';
import { keysCommand } from './keys-command.js';
import { migrateCommand } from './migrate-command.js';
import { agentsCommand } from './agents-command.js';
import { dispatchCommand } from './dispatch-command.js';
import { jobsCommands } from './jobs-command.js';
import { watchCommand } from './watch-command.js';
import { interactiveCommands } from './interactive-commands.js';
import { eventsCommand } from './events-command.js';
import { deliveriesCommand } from './deliveries-command.js';
import { schedulesCommand } from './schedules-command.js';
import { bulkCommands } from './bulk-command.js';
import { EXIT } from './exit-codes.js';
import { processIo, type Io } from './io.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

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
  interactiveCommands(program, io, setExit);
  eventsCommand(program, io, setExit);
  deliveriesCommand(program, io, setExit);
  schedulesCommand(program, io, setExit);
  bulkCommands(program, io, setExit);
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

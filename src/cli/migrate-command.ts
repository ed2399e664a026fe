import { Command } from 'commander';
import { resolveOptions } from '../options.js';
import type { Io } from './io.js';
import { dataDirOption, databaseUrlOption } from './store-options.js';

/** `agentjobs migrate`: applies pending migrations; safe while other processes run. */
export function migrateCommand(program: Command, io: Io): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe while servers run)')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .action(async (flags: { dataDir: string; databaseUrl?: string }) => {
      const { openStore } = await import('../server.js');
      const options = resolveOptions({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl ?? io.env.DATABASE_URL });
      const store = await openStore(options);
      try {
        await store.migrate();
        io.err(`agentjobs: migrations applied (${store.dialect.engine})\n`);
      } finally {
        await store.close();
      }
    });
}

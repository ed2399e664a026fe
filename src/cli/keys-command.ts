import { Command, Option } from 'commander';
import { resolveOptions } from '../options.js';
import { openStore } from '../server.js';
import { createKeyForTenant } from '../jobs/tenants.js';
import { dataDirOption, databaseUrlOption, type Io } from './program.js';

/**
 * `agentjobs keys create [--tenant NAME]`: run beside the server against the same data dir or database, creates
 * an API key — and the tenant, if new — and prints it once.
 */
export function keysCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key (and its tenant, if new) directly in the store, and print it once')
    .addOption(new Option('--tenant <name>', 'tenant the key belongs to').default('default'))
    .addOption(new Option('--name <name>', 'a label for the key'))
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .option('--json', 'print JSON')
    .action(async (flags: { tenant: string; name?: string; dataDir: string; databaseUrl?: string; json?: boolean }) => {
      const options = resolveOptions({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl ?? io.env.DATABASE_URL });
      const store = await openStore(options);
      try {
        await store.migrate();
        const made = await createKeyForTenant(store, flags.tenant, flags.name ?? null);
        if (flags.json) io.out(`${JSON.stringify({ key: made.key, tenant: flags.tenant, tenant_id: made.tenantId, tenant_created: made.created })}\n`);
        else io.out(`${made.key}\n`);
        if (!flags.json) io.err(`agentjobs: API key for tenant '${flags.tenant}'${made.created ? ' (new tenant)' : ''}; it is shown only once.\n`);
      } finally {
        await store.close();
      }
      setExit(0);
    });
}

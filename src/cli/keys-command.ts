import { Command, Option } from 'commander';
import { TOKEN_PREFIX } from '../domain/secrets.js';
import { resolveOptions } from '../options.js';
import type { Io } from './io.js';
import { dataDirOption, databaseUrlOption } from './store-options.js';
import { runClient, withClientOptions, type ClientFlags } from './client-command.js';
import { formatTime, table } from './format.js';
import { CliError } from './exit-codes.js';

/**
 * `agentjobs keys create [--tenant NAME]`: run beside the server against the same data dir or database, creates
 * an API key — and the tenant, if new — and prints it once. `keys list` and `keys revoke` go through the API,
 * with the caller's key, for the caller's tenant.
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
      // The store's modules load only for this command, so client commands start fast.
      const [{ openStore }, { createKeyForTenant }] = await Promise.all([import('../server.js'), import('../jobs/tenants.js')]);
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

  withClientOptions(keys.command('list').description("list the API keys of your tenant (hints only: keys are shown once)")).action(
    async (flags: ClientFlags) =>
      runClient(io, flags, setExit, async (ctx) => {
        const page = await ctx.client.listKeys();
        if (ctx.json) return ctx.printJson(page);
        for (const line of table(
          page.data,
          [
            { header: 'ID', value: (k) => k.id },
            { header: 'NAME', value: (k) => k.name ?? '—', max: 30 },
            { header: 'HINT', value: (k) => k.hint },
            { header: 'CREATED', value: (k) => formatTime(k.created_at) },
            { header: 'REVOKED', value: (k) => (k.revoked_at ? ctx.style.red(formatTime(k.revoked_at)) : '—') },
          ],
          ctx.style.dim,
        ))
          ctx.out(line);
      }),
  );

  withClientOptions(
    keys.command('revoke').description('revoke an API key at once (requests with it get 401)').argument('<key_id>', 'key id (key_…)'),
  ).action(async (keyId: string, flags: ClientFlags) =>
    runClient(io, flags, setExit, async (ctx) => {
      // The key itself is what people have at hand; it is never sent anywhere it is not needed.
      if (keyId.startsWith(TOKEN_PREFIX.apiKey)) {
        throw new CliError(`keys revoke takes the key's id (key_…, as \`agentjobs keys list\` shows), not the key itself`);
      }
      const key = await ctx.client.revokeKey(keyId);
      if (ctx.json) return ctx.printJson(key);
      ctx.out(`${key.id} revoked at ${formatTime(key.revoked_at)}`);
    }),
  );
}

import { Command, Option } from 'commander';
import type { ServerOptions } from '../options.js';
import type { Io } from './io.js';
import { dataDirOption, databaseUrlOption } from './store-options.js';

/** `agentjobs serve`: every option is a flag and an AGENTJOBS_… environment variable (SPEC §7). */
export function serveCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description('run the server (SQLite in --data-dir by default; PostgreSQL with --database-url)')
    .addOption(new Option('--port <port>', 'TCP port (also PORT)').env('AGENTJOBS_PORT'))
    .addOption(new Option('--host <host>', 'interface to listen on (also HOST)').env('AGENTJOBS_HOST'))
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    // Not commander's .env(): it would turn the switch on for any value, AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS=false included.
    .addOption(new Option('--allow-private-webhooks', 'allow webhooks to loopback and private addresses (development; env: AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS=true)'))
    .addOption(new Option('--webhook-retry-schedule <delays>', 'delays between webhook retries').env('AGENTJOBS_WEBHOOK_RETRY_SCHEDULE').default('5s,5m,30m,2h,5h,10h,10h'))
    .addOption(new Option('--webhook-timeout <duration>', 'timeout of one webhook POST').env('AGENTJOBS_WEBHOOK_TIMEOUT').default('10s'))
    .addOption(new Option('--lease-duration <duration>', 'lease length when a claim does not ask').env('AGENTJOBS_LEASE_DURATION').default('30s'))
    .addOption(new Option('--max-depth <n>', 'deepest subjob (a root is depth 0)').env('AGENTJOBS_MAX_DEPTH').default('10'))
    .addOption(new Option('--max-subjobs <n>', 'most direct subjobs of one job').env('AGENTJOBS_MAX_SUBJOBS').default('1000'))
    .addOption(new Option('--body-limit <bytes>', 'largest request body').env('AGENTJOBS_BODY_LIMIT').default(String(2 * 1024 * 1024)))
    .addOption(new Option('--max-artifact-bytes <bytes>', 'largest artifact a job may store').env('AGENTJOBS_MAX_ARTIFACT_BYTES').default(String(10 * 1024 * 1024)))
    .addOption(new Option('--max-artifacts-per-job <n>', 'most artifacts of one job').env('AGENTJOBS_MAX_ARTIFACTS_PER_JOB').default('100'))
    .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent').env('AGENTJOBS_LOG_LEVEL').default('info'))
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const options: ServerOptions = {
        port: integer(flags.port ?? io.env.PORT ?? '8080', '--port'),
        host: String(flags.host ?? io.env.HOST ?? '127.0.0.1'),
        dataDir: String(flags.dataDir),
        databaseUrl: (flags.databaseUrl as string | undefined) ?? io.env.DATABASE_URL ?? undefined,
        allowPrivateWebhooks: flags.allowPrivateWebhooks === true || envSwitch(io.env, 'AGENTJOBS_ALLOW_PRIVATE_WEBHOOKS'),
        webhookRetrySchedule: String(flags.webhookRetrySchedule),
        webhookTimeout: String(flags.webhookTimeout),
        leaseDuration: String(flags.leaseDuration),
        maxDepth: integer(flags.maxDepth, '--max-depth'),
        maxSubjobs: integer(flags.maxSubjobs, '--max-subjobs'),
        bodyLimit: integer(flags.bodyLimit, '--body-limit'),
        maxArtifactBytes: integer(flags.maxArtifactBytes, '--max-artifact-bytes'),
        maxArtifactsPerJob: integer(flags.maxArtifactsPerJob, '--max-artifacts-per-job'),
        logLevel: String(flags.logLevel),
        announce: (line) => io.err(`${line}\n`),
      };
      // Loaded here, not at the top: client commands should not pay for the server's modules at start-up.
      const { startServer } = await import('../server.js');
      const server = await startServer(options).catch((error: unknown) => {
        throw listenFailure(error);
      });
      io.err(`agentjobs: listening on ${server.url} (dashboard ${server.url}/, API docs ${server.url}/docs)\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          io.err(`agentjobs: ${signal}: finishing in-flight requests, then exiting\n`);
          void server.close().then(resolve, resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

/**
 * A port in use, said so a person can act on it: which address, and what to do. Other errors pass through; either
 * way the CLI prints the message and exits 1 (docs/cli.md).
 */
function listenFailure(error: unknown): unknown {
  const { code, address, port } = (error ?? {}) as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code !== 'EADDRINUSE' || address === undefined || port === undefined) return error;
  const where = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  return new Error(`${where} is already in use (another agentjobs server?); stop it or choose another port with --port.`, { cause: error });
}

function integer(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number, got '${String(value)}'`);
  return n;
}

/** A yes/no environment variable: unset or empty is no; a value that is neither yes nor no is refused. */
function envSwitch(env: Record<string, string | undefined>, name: string): boolean {
  const value = env[name]?.trim() ?? '';
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)?$/i.test(value)) return false;
  throw new Error(`${name} must be true or false (or 1/0, yes/no, on/off), not '${value}'`);
}

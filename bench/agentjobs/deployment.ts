/**
 * Starts agentjobs the way a user does — `node dist/cli/main.js serve` — on SQLite or on
 * PostgreSQL with one or two processes (SPEC.md §1, §8), reads the admin key it writes on first
 * start and creates the agent the scenarios dispatch to.
 */
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processCpuSeconds } from '../lib/cpu.js';
import { findFreePort, spawnServer, type SpawnedServer } from '../lib/process.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { dropDatabase, recreateDatabase } from '../lib/services.js';
import { createAgent, type CreatedAgent } from './api.js';

/** Where the store lives and how many server processes share it. */
export interface Deployment {
  /** `sqlite` (the default, one process) or `postgres`. */
  engine: 'sqlite' | 'postgres';
  /** Server processes; more than one only with PostgreSQL. */
  processes: 1 | 2;
}

/** The deployments the issue asks for. */
export const DEPLOYMENTS = {
  sqlite: { engine: 'sqlite', processes: 1 },
  pg1: { engine: 'postgres', processes: 1 },
  pg2: { engine: 'postgres', processes: 2 },
} as const satisfies Record<string, Deployment>;

/** Short name of a deployment for ids and labels. */
export type DeploymentName = keyof typeof DEPLOYMENTS;

/** Label text of each deployment. */
export const DEPLOYMENT_LABELS: Record<DeploymentName, string> = {
  sqlite: 'SQLite',
  pg1: 'PostgreSQL, 1 process',
  pg2: 'PostgreSQL, 2 processes',
};

/** A running deployment. */
export interface RunningAgentjobs {
  /** One origin per server process. */
  origins: string[];
  /** The processes. */
  servers: SpawnedServer[];
  /** The folder of the store (SQLite file, admin.key). */
  dataDir: string;
  /** The admin API key (`ak_…`). */
  apiKey: string;
  /** The agent the scenarios dispatch to, with its worker token. */
  agent: CreatedAgent;
  /** RSS of all server processes together, bytes. */
  rssBytes(): Promise<number>;
  /** CPU seconds used so far by all server processes together. */
  cpuSeconds(): number;
  /** Stops the processes and deletes the store. */
  stop(): Promise<void>;
}

/** `ctx` with another agentjobs build to start, when one is given. */
export function withCli(ctx: ScenarioContext, cli: string | undefined): ScenarioContext {
  return cli ? { ...ctx, agentjobsCli: cli } : ctx;
}

/**
 * Starts a deployment with an empty store named `name` (a directory under the run's work dir
 * and, on PostgreSQL, a database `agentjobs_bench_<name>` recreated empty) — or, on SQLite with
 * `from`, with a copy of the store in that folder (its SQLite file and admin.key).
 */
export async function startAgentjobs(ctx: ScenarioContext, deployment: Deployment, name: string, from?: string): Promise<RunningAgentjobs> {
  const safeName = name.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const dataDir = join(ctx.workDir, `agentjobs-${safeName}`);
  await rm(dataDir, { recursive: true, force: true });
  if (from) {
    if (deployment.engine !== 'sqlite') throw new Error('a copied store is SQLite only');
    await cp(from, dataDir, { recursive: true });
  } else {
    await mkdir(dataDir, { recursive: true });
  }
  const databaseName = `agentjobs_bench_${safeName}`;
  const databaseUrl = deployment.engine === 'postgres' ? await recreateDatabase(ctx.postgresUrl, databaseName) : undefined;

  const servers: SpawnedServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dataDir, { recursive: true, force: true });
    if (databaseUrl) await dropDatabase(ctx.postgresUrl, databaseName);
  };
  try {
    // One after the other: the first creates the schema, the tenant and admin.key; the second
    // (same data dir, same database) finds them.
    for (let i = 0; i < deployment.processes; i++) {
      const port = await findFreePort();
      const args = [ctx.agentjobsCli, 'serve', '--port', String(port), '--data-dir', dataDir, '--allow-private-webhooks', '--log-level', 'warn'];
      if (databaseUrl) args.push('--database-url', databaseUrl);
      servers.push(
        await spawnServer({
          name: `agentjobs server ${i + 1}/${deployment.processes} (${deployment.engine})`,
          command: process.execPath,
          args,
          cwd: ctx.repoRoot,
          port,
          readyPath: '/healthz',
        }),
      );
    }
    const apiKey = (await readFile(join(dataDir, 'admin.key'), 'utf8')).trim();
    const agent = await createAgent(servers[0]!.origin, apiKey, `bench-${safeName}`);
    return {
      origins: servers.map((s) => s.origin),
      servers,
      dataDir,
      apiKey,
      agent,
      rssBytes: async () => (await Promise.all(servers.map((s) => s.rssBytes()))).reduce((a, b) => a + b, 0),
      cpuSeconds: () => servers.map((s) => processCpuSeconds(s.pid)).reduce((a, b) => a + b, 0),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

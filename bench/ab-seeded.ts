/**
 * A/B of two builds of the server on a large SQLite store: `npx tsx bench/ab-seeded.ts --a OLD/dist/cli/main.js
 * [--b dist/cli/main.js] [--seed 300000] [--rounds 4]`.
 *
 * Build A first fills one store with `--seed` jobs, dispatched and completed (as the growth group does), and a
 * snapshot of it is taken (`VACUUM INTO`). Then, alternating A B B A …, each run starts a fresh server of one build
 * on its own copy of the snapshot and measures: `GET /v1/jobs/{id}` p99 over jobs spread through the store at
 * 500/s for 10 s, 20,000 dispatches from 64 connections (jobs/s), the GETs again, and the server's RSS. The
 * medians and the ratio B/A close the report. A quick tool for one change; `npm run bench` is the benchmark.
 */
import { mkdir, mkdtemp, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { httpLoad } from './lib/http-load.js';
import type { ScenarioContext } from './lib/scenario.js';
import { median } from './lib/stats.js';
import { dispatchJson } from './agentjobs/api.js';
import { DEPLOYMENTS, startAgentjobs, withCli } from './agentjobs/deployment.js';
import { getP99, seed } from './agentjobs/growth.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: 'dist/cli/main.js' },
    seed: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '4' },
  },
});
if (!values.a) throw new Error('--a FILE: the build to compare against (another checkout\'s dist/cli/main.js)');
const builds = { A: resolve(values.a), B: resolve(values.b) };
const DISPATCHES = 20_000;

const workDir = await mkdtemp(join(tmpdir(), 'agentjobs-ab-seeded-'));
const ctx = {
  sizes: { concurrency: 64, latencyRate: 500 },
  repoRoot: process.cwd(),
  agentjobsCli: builds.A,
  workDir,
  postgresUrl: '',
  log: (line: string) => console.log(line),
} as unknown as ScenarioContext;

interface Figures {
  getP99: number;
  dispatchPerSec: number;
  getP99After: number;
  rssMB: number;
}

async function once(build: 'A' | 'B', round: number, snapshot: string, ids: readonly string[]): Promise<Figures> {
  const server = await startAgentjobs(withCli(ctx, builds[build]), DEPLOYMENTS.sqlite, `run_${build}_${round}`, snapshot);
  try {
    const before = await getP99(ctx, server, ids, 10_000);
    const headers = { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' };
    const body = dispatchJson(server.agent.id);
    const sent = await httpLoad({ origins: server.origins, connections: 64, count: DISPATCHES, expectStatus: 202, request: () => ({ method: 'POST', path: '/v1/jobs', headers, body }) });
    if (sent.errors) throw new Error(`${sent.errors} failed dispatches: ${sent.firstError}`);
    const after = await getP99(ctx, server, ids, 10_000);
    return { getP99: before, dispatchPerSec: sent.opsPerSec, getP99After: after, rssMB: (await server.rssBytes()) / 1e6 };
  } finally {
    await server.stop();
  }
}

try {
  const seeder = await startAgentjobs(ctx, DEPLOYMENTS.sqlite, 'seed');
  const snapshot = join(workDir, 'snapshot');
  let ids: string[];
  try {
    ids = await seed(ctx, seeder, Number(values.seed), 'seed');
    await mkdir(snapshot);
    // A consistent copy of a live WAL-mode file, taken through a second connection.
    const db = new Database(join(seeder.dataDir, 'agentjobs.db'), { readonly: true });
    try {
      db.prepare('VACUUM INTO ?').run(join(snapshot, 'agentjobs.db'));
    } finally {
      db.close();
    }
    await copyFile(join(seeder.dataDir, 'admin.key'), join(snapshot, 'admin.key'));
  } finally {
    await seeder.stop();
  }

  const results: Record<'A' | 'B', Figures[]> = { A: [], B: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const build of round % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const)) {
      const r = await once(build, round, snapshot, ids);
      results[build].push(r);
      console.log(
        `round ${round + 1} ${build}: GET p99 ${r.getP99.toFixed(1)} ms, ${Math.round(r.dispatchPerSec)} dispatches/s, ` +
          `GET p99 after ${r.getP99After.toFixed(1)} ms, RSS ${Math.round(r.rssMB)} MB`,
      );
    }
  }
  const m = (build: 'A' | 'B', key: keyof Figures) => median(results[build].map((r) => r[key]));
  console.log(`\nSQLite store of ${Number(values.seed).toLocaleString('en-US')} jobs, medians of ${values.rounds}:`);
  for (const build of ['A', 'B'] as const) {
    console.log(
      `${build} ${builds[build]}: GET p99 ${m(build, 'getP99').toFixed(1)} ms, ${Math.round(m(build, 'dispatchPerSec'))} dispatches/s, ` +
        `GET p99 after ${m(build, 'getP99After').toFixed(1)} ms, RSS ${Math.round(m(build, 'rssMB'))} MB`,
    );
  }
  const ratio = (key: keyof Figures) => (m('B', key) / m('A', key)).toFixed(2);
  console.log(`B/A: GET p99 ${ratio('getP99')}×, dispatch ${ratio('dispatchPerSec')}×, GET p99 after ${ratio('getP99After')}×, RSS ${ratio('rssMB')}×`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, dropDatabase, ENGINES, engineOptions, type Engine } from './support/engines.js';
import { call } from './support/server.js';
import { spawnServer, type ServerProcess } from './support/process.js';
import { Receiver } from './support/receiver.js';
import { eventually } from './support/fixtures.js';

// Issue 19, "Must show": a three-level tree whose leaf asks a person, with every part a real process — servers
// (`agentjobs serve`), SDK workers, a webhook receiver — on SQLite and PostgreSQL.

const WORKER_SCRIPT = join(process.cwd(), 'test', 'support', 'tree-worker.ts');

/** A worker process running test/support/tree-worker.ts. */
interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  stderr: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${err}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      resolve({
        child,
        pid: child.pid!,
        stderr: () => err,
        kill: (signal = 'SIGKILL') =>
          new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill(signal);
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${err}`)));
  });
}

/** A TCP port free right now, so a server restarted after kill -9 comes back where its workers look for it. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

type Variant = 'one server' | 'kill -9 while the question waits' | 'two servers';

const variants: Array<{ engine: Engine; variant: Variant }> = [
  ...ENGINES.map((engine) => ({ engine, variant: 'one server' as const })),
  ...ENGINES.map((engine) => ({ engine, variant: 'kill -9 while the question waits' as const })),
  ...ENGINES.filter((engine) => engine === 'postgres').map((engine) => ({ engine, variant: 'two servers' as const })),
];

describe('a three-level tree whose leaf asks a person', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  for (const { engine, variant } of variants) {
    it(`resumes the leaf on another worker process with the answer, and the root completes (${engine}, ${variant})`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-tree-'));
      cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const port = await freePort();
      let databaseUrl: string | undefined;
      if (variant === 'two servers') {
        databaseUrl = await createDatabase();
        cleanup.push(() => dropDatabase(databaseUrl!));
      } else {
        databaseUrl = (await engineOptions(engine, dataDir)).databaseUrl;
      }
      const serve = async (dir: string, at: number): Promise<ServerProcess> => {
        const server = await spawnServer(dir, ['--port', String(at), ...(databaseUrl ? ['--database-url', databaseUrl] : [])]);
        cleanup.push(() => server.kill());
        return server;
      };
      const first = await serve(dataDir, port);
      const apiKey = first.apiKey;
      const api = (server: ServerProcess, method: string, path: string, body?: unknown) => call(server.url, method, path, body, { token: apiKey });
      const hook = await new Receiver().start();
      cleanup.push(() => hook.stop());

      const agent = async (name: string, extra: Record<string, unknown> = {}) => (await api(first, 'POST', '/v1/agents', { name, ...extra })).body;
      const [root, middle, leaf] = [await agent('root'), await agent('middle'), await agent('leaf', { max_concurrency: 1 })];
      const env = {
        AGENTJOBS_URL: first.url,
        ROOT_AGENT: root.id,
        ROOT_TOKEN: root.worker_token,
        MIDDLE_AGENT: middle.id,
        MIDDLE_TOKEN: middle.worker_token,
        LEAF_AGENT: leaf.id,
        LEAF_TOKEN: leaf.worker_token,
      };
      const upper = await spawnWorker({ ...env, ROLE: 'upper' });
      cleanup.push(() => upper.kill());
      const asker = await spawnWorker({ ...env, ROLE: 'leaf' });
      cleanup.push(() => asker.kill());

      const dispatched = await api(first, 'POST', '/v1/jobs', {
        agent_id: root.id,
        brief: { objective: 'Pick a colour, three levels down.' },
        observers: [{ type: 'webhook', url: hook.url, events: ['input_required', 'completed'] }],
      });
      const rootId = dispatched.body.id as string;

      // The leaf asks; its process has nothing more to do and goes away.
      const waiting = await eventually(async () => (await api(first, 'GET', '/v1/jobs?waiting=true')).body.data[0], 30_000);
      expect(waiting).toMatchObject({ agent_id: leaf.id, status: 'running', attempt: 1, root_job_id: rootId, depth: 2 });
      expect(waiting.waiting_for.prompt).toBe(`pid ${asker.pid}: which colour?`);
      const leafId = waiting.id as string;
      const requestId = waiting.waiting_for.id as string;
      await asker.kill();

      // The root's observer hears of the leaf's question, with waiting_for set; the tree's inbox lists it.
      const heard = await eventually(() => hook.received.find((r) => r.json?.type === 'job.input_required'), 15_000);
      expect(heard.json.data).toMatchObject({ observer_job_id: rootId, job: { id: leafId, waiting_for: { id: requestId, status: 'pending' } } });
      const inbox = await api(first, 'GET', `/v1/jobs/${rootId}/input-requests?include=subjobs&status=pending`);
      expect(inbox.body.data.map((r: any) => [r.id, r.job_id])).toEqual([[requestId, leafId]]);

      // No worker holds the leaf while it waits: the agent counts it as waiting, not running, and its one slot
      // is free — another job of the agent is leased and finished meanwhile.
      expect((await api(first, 'GET', `/v1/agents/${leaf.id}`)).body.counts).toMatchObject({ running: 0, waiting: 1 });
      const other = await api(first, 'POST', '/v1/jobs', { agent_id: leaf.id, brief: { objective: 'meanwhile' } });
      const taken = await call(first.url, 'POST', `/v1/agents/${leaf.id}/claim`, { max_jobs: 5 }, { token: leaf.worker_token });
      expect(taken.body.jobs.map((j: any) => j.job.id)).toEqual([other.body.id]);
      await call(first.url, 'POST', `/v1/jobs/${other.body.id}/complete`, { lease_token: taken.body.jobs[0].lease.token, result: 1 }, { token: leaf.worker_token });

      let answering = first;
      if (variant === 'kill -9 while the question waits') {
        await first.kill('SIGKILL');
        answering = await serve(dataDir, port);
      } else if (variant === 'two servers') {
        const otherDir = mkdtempSync(join(tmpdir(), 'agentjobs-tree-'));
        cleanup.push(() => rmSync(otherDir, { recursive: true, force: true }));
        answering = await serve(otherDir, await freePort());
      }
      expect((await api(answering, 'GET', `/v1/jobs/${leafId}`)).body.waiting_for.id).toBe(requestId);

      // A wrong answer is refused, naming the path; the right one resumes the leaf on another worker process.
      const wrong = await api(answering, 'POST', `/v1/jobs/${leafId}/input`, { request_id: requestId, input: { colour: 'purple' } });
      expect(wrong.status).toBe(422);
      expect(wrong.body.error).toMatchObject({ code: 'input_schema_mismatch' });
      expect(wrong.body.error.message).toContain('input.colour');
      expect((await api(answering, 'POST', `/v1/jobs/${leafId}/input`, { request_id: requestId, input: { colour: 'green' } })).status).toBe(200);
      const finisher = await spawnWorker({ ...env, AGENTJOBS_URL: answering.url, ROLE: 'leaf' });
      cleanup.push(() => finisher.kill());
      expect(finisher.pid).not.toBe(asker.pid);

      const done = await eventually(async () => {
        const job = (await api(answering, 'GET', `/v1/jobs/${rootId}`)).body;
        return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : null;
      }, 60_000);
      expect(done).toMatchObject({ status: 'completed', attempt: 1, result: { middle: { leaf: { colour: 'green', finished_by: finisher.pid } } } });
      for (const id of [done.subjobs[0].id, leafId]) expect((await api(answering, 'GET', `/v1/jobs/${id}`)).body).toMatchObject({ status: 'completed', attempt: 1 });
      const leafEvents = (await api(answering, 'GET', `/v1/jobs/${leafId}/events`)).body.data.map((e: any) => e.type);
      expect(leafEvents.filter((t: string) => t !== 'job.output')).toEqual([
        'job.queued',
        'job.running',
        'job.input_required',
        'job.input_received',
        'job.resumed',
        'job.completed',
      ]);
      // The run again replayed the question silently: the output has the first run's start once.
      expect((await api(answering, 'GET', `/v1/jobs/${leafId}/output`)).body.streams.default).toBe(
        `process ${asker.pid} starts\nprocess ${finisher.pid} goes on with green\n`,
      );
      await eventually(() => hook.received.some((r) => r.json?.type === 'job.completed' && r.json.data.job.id === rootId), 15_000);
    }, 180_000);
  }
});

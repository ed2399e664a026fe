import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetryableError, runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';
import { startTestServer, type TestServer } from './support/server.js';
import { claim, createAgent, dispatch, eventually } from './support/fixtures.js';
import { pooledFetch } from './support/http-client.js';
import { assertBuilt, cleanEnv, runCli } from './support/cli.js';

// The real binary (dist/cli/main.js) against a real server, with real SDK workers doing the jobs.
describe('the agentjobs CLI', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  const workers: WorkerHandle[] = [];
  const workerFetch = pooledFetch();
  const agents: Record<string, string> = {};
  let receiver: Server;
  let receiverUrl: string;

  beforeAll(async () => {
    assertBuilt();
    server = await startTestServer();
    env = cleanEnv({ AGENTJOBS_URL: server.url, AGENTJOBS_API_KEY: server.apiKey });
    const start = (name: string, handler: Parameters<typeof runWorker>[0]['handler']) =>
      createAgent(server, { name }).then((agent) => {
        agents[name] = agent.id;
        workers.push(runWorker({ url: server.url, agentId: agent.id, token: agent.token, handler, leaseSeconds: 3, waitSeconds: 2, concurrency: 4, fetch: workerFetch.fetch, onError: () => {} }));
      });
    await start('echo', async (job, ctx) => {
      ctx.progress(50, 'echoing');
      ctx.reportTokens(7);
      // Progress goes out with the next heartbeat, a moment later; give it that moment so the event is there.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { echo: job.brief.objective, context: job.brief.context ?? null, constraints: job.brief.constraints ?? null };
    });
    await start('broken', async () => {
      throw new NonRetryableError('the model refused the brief (on purpose)', 'model_refused');
    });
    await start('lead', async (job, ctx) => {
      ctx.progress(10, 'splitting the work');
      const parts = await Promise.all(['one', 'two'].map((part) => ctx.dispatch(agents.echo, { objective: `part ${part}` })));
      const results = await Promise.all(parts.map((p) => p.result<{ echo: string }>()));
      ctx.reportTokens(5);
      return { parts: results.map((r) => r.echo) };
    });
    await start('sleeper', async (_job, ctx) => {
      ctx.progress(1, 'sleeping until cancelled');
      await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
    });
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await workerFetch.close();
    if (receiver) await new Promise((resolve) => receiver.close(resolve));
    await server?.stop();
  });

  it('dispatch --wait prints the result on stdout and exits 0 when the job completes', async () => {
    const run = await runCli(['dispatch', 'echo', '--objective', 'hello there', '--context', 'from the CLI test', '--constraint', 'max_tokens=500', '--wait'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ echo: 'hello there', context: 'from the CLI test', constraints: { max_tokens: 500 } });
    expect(run.stderr).toMatch(/job_\w{26} completed/);
  });

  it('dispatch --wait exits 1 when the job fails and names the error code', async () => {
    const run = await runCli(['dispatch', 'broken', '--objective', 'try anyway', '--wait'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/failed: model_refused: the model refused the brief/);
  });

  it('dispatch --wait exits 2 when the job is cancelled, and cancel asks the running agent to stop', async () => {
    const waiting = runCli(['dispatch', 'sleeper', '--objective', 'nap', '--metadata', 'case=cancel-exit-code', '--wait'], env);
    const job = await eventually(async () => {
      const list = await server.api('GET', `/v1/jobs?agent_id=${agents.sleeper}&metadata[case]=cancel-exit-code&status=running`);
      return list.body.data[0];
    });
    const cancel = await runCli(['cancel', job.id], env);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`${job.id} (cancel requested|cancelled)`));
    const run = await waiting;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cancelled \(cancelled\)/);
  });

  it('dispatch --wait to an agent no worker has polled says so, rather than waiting in silence', async () => {
    const unstaffed = await createAgent(server, { name: 'unstaffed' });
    const waiting = runCli(['dispatch', 'unstaffed', '--objective', 'anyone?', '--metadata', 'case=no-worker', '--wait'], env);
    const job = await eventually(async () => {
      const list = await server.api('GET', `/v1/jobs?metadata[case]=no-worker`);
      return list.body.data[0];
    });
    expect((await runCli(['cancel', job.id], env)).code).toBe(0);
    const run = await waiting;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no worker of unstaffed has been seen in the last minute: the job stays queued until one claims it/);
    // The other tests list this file's agents.
    expect((await server.api('DELETE', `/v1/agents/${unstaffed.id}`)).status).toBeLessThan(300);
  });

  it('dispatch --wait says nothing of the kind when the agent has workers', async () => {
    const run = await runCli(['dispatch', 'echo', '--objective', 'staffed', '--wait'], env);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/no worker of/);
  });

  it('get shows the progress of running subjobs in the tree', async () => {
    // A parent held by hand (no worker of its own), with one subjob for the sleeper, which reports 1 % and waits.
    const holder = await createAgent(server, { name: 'holder' });
    const root = await dispatch(server, holder.id, { metadata: { case: 'get-progress' } });
    const [held] = await claim(server, holder);
    const child = await server.api('POST', `/v1/jobs/${root}/subjobs`, { lease_token: held.lease.token, agent_id: agents.sleeper, brief: { objective: 'nap' } }, { token: holder.token });
    expect(child.status).toBe(202);
    await eventually(async () => (await server.api('GET', `/v1/jobs/${child.body.id}`)).body.progress?.percent === 1);
    const got = await runCli(['get', root], env);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`sleeper +running +█?░+ +1% .*${child.body.id}`));
    expect(got.stdout).toContain('sleeping until cancelled');
    // Cancel the tree; the hand-held parent confirms as a worker would, with a fail.
    expect((await runCli(['cancel', root], env)).code).toBe(0);
    const confirmed = await server.api('POST', `/v1/jobs/${root}/fail`, { lease_token: held.lease.token, error: { message: 'stopped' } }, { token: holder.token });
    expect(confirmed.status).toBe(200);
    await eventually(async () => (await server.api('GET', `/v1/jobs/${child.body.id}`)).body.status === 'cancelled');
    // The other tests list this file's agents.
    expect((await server.api('DELETE', `/v1/agents/${holder.id}`)).status).toBeLessThan(300);
  });

  it('dispatch without --wait prints only the job id, for $(…) in scripts', async () => {
    const run = await runCli(['dispatch', agents.echo, '--objective', 'just queue it', '--metadata', 'team=cli'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^job_[0-9a-hjkmnp-tv-z]{26}\n$/);
    const job = await server.api('GET', `/v1/jobs/${run.stdout.trim()}`);
    expect(job.body.metadata).toEqual({ team: 'cli' });
  });

  it('watch --no-tty prints one line per event, then the finished tree and the result', async () => {
    const dispatched = await server.api('POST', '/v1/jobs', { agent_id: agents.lead, brief: { objective: 'split in two' } });
    const run = await runCli(['watch', dispatched.body.id, '--no-tty'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const id = dispatched.body.id as string;
    expect(lines[0]).toBe(`watching ${id} (lead) and its subjobs: one line per event, the tree at the end`);
    // Event lines: time, job id, agent, event, detail, in fixed-width columns.
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${id}  lead {10}  queued`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${id}  lead {10}  subjob_dispatched  → job_\\w{26}$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}  job_\w{26}  echo {10}  progress {9}  50% echoing$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  ${id}  lead {10}  completed$`)));
    // The final tree: the job, then its two subjobs on box-drawing branches, every bar full.
    const tree = lines.filter((l) => /^(✓|├─|└─)/.test(l));
    expect(tree).toHaveLength(3);
    expect(tree[0]).toMatch(new RegExp(`^✓ lead {3}  completed  █{20}  100% +19 tok +[\\d.]+m?s  ${id}$`));
    expect(tree[1]).toMatch(/^├─ ✓ echo  completed  █{20}  100% +7 tok +[\d.]+m?s  job_\w{26}$/);
    expect(tree[2]).toMatch(/^└─ ✓ echo  completed  █{20}  100% +7 tok +[\d.]+m?s  job_\w{26}$/);
    const result = run.stdout.slice(run.stdout.indexOf('\n{') + 1);
    expect(JSON.parse(result)).toEqual({ parts: ['part one', 'part two'] });
  });

  it('watch exits 1 for a failed job and shows its error', async () => {
    const dispatched = await server.api('POST', '/v1/jobs', { agent_id: agents.broken, brief: { objective: 'fail' } });
    const run = await runCli(['watch', dispatched.body.id], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✗ broken  failed +░{20} +— +0 tok/m);
    expect(run.stderr).toMatch(/failed: model_refused/);
  });

  it('prints JSON that parses with --json, for list, get, agents, events and deliveries', async () => {
    const waited = await runCli(['dispatch', 'echo', '--objective', 'json please', '--observer', receiverUrl, '--wait', '--json'], env);
    expect(waited.code).toBe(0);
    const job = JSON.parse(waited.stdout);
    expect(job).toMatchObject({ status: 'completed', result: { echo: 'json please' }, agent_id: agents.echo });

    const get = await runCli(['get', job.id, '--json'], env);
    expect(JSON.parse(get.stdout)).toEqual((await server.api('GET', `/v1/jobs/${job.id}`)).body);

    const list = await runCli(['list', '--agent', 'echo', '--status', 'completed', '--limit', '100', '--json'], env);
    const page = JSON.parse(list.stdout);
    expect(page.data.map((j: { id: string }) => j.id)).toContain(job.id);
    expect(page.data.every((j: { status: string; agent_id: string }) => j.status === 'completed' && j.agent_id === agents.echo)).toBe(true);

    const agentList = JSON.parse((await runCli(['agents', 'list', '--json'], env)).stdout);
    expect(agentList.data.map((a: { name: string }) => a.name).sort()).toEqual(['broken', 'echo', 'lead', 'sleeper']);

    const events = await runCli(['events', job.id, '--json'], env);
    const parsed = events.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(parsed.map((e) => e.type)).toEqual(['job.queued', 'job.running', 'job.progress', 'job.completed']);

    await eventually(async () => (await server.api('GET', `/v1/jobs/${job.id}/deliveries`)).body.data.every((m: { status: string }) => m.status === 'delivered'));
    const deliveries = JSON.parse((await runCli(['deliveries', job.id, '--json'], env)).stdout);
    expect(deliveries.data.map((m: { type: string }) => m.type).sort()).toEqual(['job.completed', 'job.running']);
    expect(deliveries.data[0].attempts[0]).toMatchObject({ status_code: 204, outcome: 'ok' });
  });

  it('shows a job, a list and the deliveries as readable text', async () => {
    const dispatched = await server.api('POST', '/v1/jobs', {
      agent_id: agents.lead,
      brief: { objective: 'text views' },
      observers: [{ type: 'webhook', url: receiverUrl, events: ['completed'] }],
    });
    await runCli(['watch', dispatched.body.id], env);
    const get = await runCli(['get', dispatched.body.id], env);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(new RegExp(`^${dispatched.body.id}  completed$`, 'm'));
    expect(get.stdout).toMatch(/^ {2}agent {6}lead \(agt_\w{26}\)$/m);
    expect(get.stdout).toMatch(/^ {2}tokens {5}19 \(own 5\)$/m);
    expect(get.stdout).toMatch(/^ {2}└─ ✓ echo  completed/m);

    const list = await runCli(['list', '--root', dispatched.body.id], env);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +STATUS +AGENT +PROGRESS +TOKENS +CREATED +OBJECTIVE$/);
    expect(list.stdout).toMatch(/completed +echo +100% +7 .*↳ part (one|two)/);

    await eventually(async () => (await server.api('GET', `/v1/jobs/${dispatched.body.id}/deliveries`)).body.data.length === 3);
    const deliveries = await runCli(['deliveries', dispatched.body.id], env);
    expect(deliveries.stdout).toMatch(/^msg_\w{26} {2}delivered {2}job\.completed/m);
    expect(deliveries.stdout).toMatch(/^ {4}\d\d:\d\d:\d\d\.\d{3} {2}204 +\d+ms {2}ok$/m);
  });

  it('creates an agent, shows it by name, and lists and revokes API keys over HTTP', async () => {
    const created = await runCli(['agents', 'create', 'writer', '--description', 'writes', '--max-concurrency', '2'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^writer {2}agt_\w{26}\nworker token \(shown once\): awt_\S+\n$/);
    expect(created.stderr).toMatch(/run a worker \(from a checkout of the repository\): AGENTJOBS_URL=\S+ AGENT_ID=agt_\w{26} WORKER_TOKEN=awt_\S+ node --import tsx examples\/quickstart-worker\.ts/);
    // A model agent is run by the server: no worker to start, and no hint to start one.
    const runtime = JSON.stringify({ type: 'model', base_url: 'http://127.0.0.1:9/v1', model: 'm' });
    const model = await runCli(['agents', 'create', 'thinker', '--runtime', runtime], env);
    expect(model.code).toBe(0);
    expect(model.stderr).toContain('the server runs this agent\'s jobs itself: it needs no worker');
    expect(model.stderr).not.toContain('run a worker');
    expect((await runCli(['agents', 'get', 'thinker'], env)).stdout).toMatch(/^ {2}max concurrency none set \(the server's model runtime default per process, 4 unless configured\)$/m);
    const got = await runCli(['agents', 'get', 'writer'], env);
    expect(got.stdout).toMatch(/^ {2}max concurrency 2$/m);

    const extra = await server.api('POST', '/v1/keys', { name: 'for revoking' });
    const keys = await runCli(['keys', 'list'], env);
    expect(keys.stdout).toMatch(new RegExp(`^${extra.body.id} +for revoking`, 'm'));
    const byKey = await runCli(['keys', 'revoke', extra.body.key], env);
    expect(byKey.code).toBe(64);
    expect(byKey.stderr).toContain("keys revoke takes the key's id (key_…, as `agentjobs keys list` shows), not the key itself");
    const revoked = await runCli(['keys', 'revoke', extra.body.id, '--json'], env);
    expect(JSON.parse(revoked.stdout).revoked_at).toEqual(expect.any(String));
    const withRevoked = await runCli(['list'], { ...env, AGENTJOBS_API_KEY: extra.body.key });
    expect(withRevoked.code).toBe(3);
    expect(withRevoked.stderr).toMatch(/unauthenticated \(HTTP 401\)/);
  });

  it('finds the API key in <data-dir>/admin.key when none is given', async () => {
    const run = await runCli(['agents', 'list', '--json', '--data-dir', server.dataDir], cleanEnv({ AGENTJOBS_URL: server.url }));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).data.length).toBeGreaterThan(0);
  });

  it('reads the context and the output schema from files given as @path', async () => {
    const schemaPath = join(server.dataDir, 'schema.json');
    const contextPath = join(server.dataDir, 'context.txt');
    writeFileSync(schemaPath, JSON.stringify({ type: 'object', required: ['echo'] }));
    writeFileSync(contextPath, 'context from a file\n');
    const run = await runCli(['dispatch', 'echo', '--objective', 'files', '--context', `@${contextPath}`, '--schema', `@${schemaPath}`, '--wait', '--json'], env);
    const job = JSON.parse(run.stdout);
    expect(job.brief).toMatchObject({ context: 'context from a file\n', output_schema: { type: 'object', required: ['echo'] } });
  });

  it('exits 64 for bad usage, 3 for an API error (with its code) and 4 when the server cannot be reached', async () => {
    const noObjective = await runCli(['dispatch', 'echo'], env);
    expect(noObjective.code).toBe(64);
    expect(noObjective.stderr).toMatch(/required option '--objective <text>' not specified/);
    const usage = await Promise.all([
      runCli(['list', '--status', 'sleeping'], env),
      runCli(['list', '--limit', '500'], env),
      runCli(['dispatch', 'echo', '--objective', 'x', '--constraint', 'no-equals-sign'], env),
      runCli(['frobnicate'], env),
      runCli(['list'], cleanEnv({ AGENTJOBS_URL: server.url, AGENTJOBS_DATA_DIR: join(server.dataDir, 'nowhere') })),
    ]);
    expect(usage.map((run) => run.code)).toEqual([64, 64, 64, 64, 64]);
    expect(usage[4].stderr).toMatch(/no API key: pass --api-key, set AGENTJOBS_API_KEY/);

    const missing = await runCli(['get', 'job_01jqzzzzzzzzzzzzzzzzzzzzzz', '--json'], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^agentjobs: job_not_found \(HTTP 404\): /);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'job_not_found' } });

    const invalid = await runCli(['dispatch', 'echo', '--objective', 'x', '--observer', 'ftp://example.com/'], env);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/webhook_url_not_allowed|invalid_request/);

    const unreachable = await runCli(['list'], cleanEnv({ AGENTJOBS_URL: 'http://127.0.0.1:1', AGENTJOBS_API_KEY: server.apiKey }));
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:1/);

    const help = await runCli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/dispatch \[options\] <agent>/);
  });
});

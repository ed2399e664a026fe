import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorker, type WorkerHandle } from '@agentjobs/sdk/worker';
import { createAgent } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sdkDir = join(root, 'packages/sdk');
const support = join(root, 'test/support/sdk-user');

/** Runs a command; resolves to its stdout, rejects with its output when it fails. */
function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { cwd, timeout: 60_000, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/**
 * A lockfile for a project that depends on the SDK's tarball: the SDK's dependencies as the repository's own
 * lockfile pins them. With it `npm ci --offline` installs from npm's cache alone, which the repository's
 * `npm ci` filled, so the test needs no network.
 */
function lockfileFor(tarball: string, tarballPath: string) {
  const rootLock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const sdk = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8'));
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarballPath)).digest('base64')}`;
  const packages: Record<string, unknown> = {
    '': { name: 'sdk-user', dependencies: { '@agentjobs/sdk': `file:${tarball}` } },
    'node_modules/@agentjobs/sdk': { version: sdk.version, resolved: `file:${tarball}`, integrity, dependencies: sdk.dependencies },
  };
  const pending = Object.keys(sdk.dependencies ?? {});
  while (pending.length > 0) {
    const name = pending.pop()!;
    const entry = rootLock.packages[`node_modules/${name}`];
    if (!entry) throw new Error(`${name} is not in package-lock.json at the top level`);
    // The lockfile may leave out registry URLs (omit-lockfile-registry-resolved); without one npm would ask the
    // registry where the tarball is, which --offline forbids.
    packages[`node_modules/${name}`] = { resolved: tarballUrl(name, entry.version), ...entry };
    for (const dependency of Object.keys(entry.dependencies ?? {})) if (!packages[`node_modules/${dependency}`]) pending.push(dependency);
  }
  return { name: 'sdk-user', lockfileVersion: 3, requires: true, packages };
}

/** Where the registry keeps a package's tarball: `<registry>/<name>/-/<name without scope>-<version>.tgz`. */
function tarballUrl(name: string, version: string): string {
  const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  return `${registry}${name}/-/${name.split('/').pop()}-${version}.tgz`;
}

/** Every package.json under node_modules (scoped ones included), with its folder. */
function installedPackages(project: string): Array<{ dir: string; json: any }> {
  const found: Array<{ dir: string; json: any }> = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (name.startsWith('@')) visit(path);
      else if (existsSync(join(path, 'package.json'))) {
        found.push({ dir: path, json: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) });
        if (existsSync(join(path, 'node_modules'))) visit(join(path, 'node_modules'));
      }
    }
  };
  visit(join(project, 'node_modules'));
  return found;
}

/** A webhook receiver that keeps every request and lists them on GET, so that a program can fetch its webhook. */
async function startMailbox(): Promise<{ url: string; server: Server }> {
  const received: Array<{ headers: Record<string, unknown>; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'GET' ? JSON.stringify(received) : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server };
}

// The SDK speaks HTTP to a server whatever its store, so these run on SQLite only.
describe('@agentjobs/sdk installed from its tarball into an empty project', () => {
  let project: string;
  let server: TestServer;
  let worker: WorkerHandle;
  let mailbox: { url: string; server: Server };
  let agentId: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'agentjobs-sdk-user-'));
    // `npm test` built the SDK; --ignore-scripts keeps `prepack` from building it again.
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', project], sdkDir));
    const tarball: string = packed[0].filename;
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module', dependencies: { '@agentjobs/sdk': `file:${tarball}` } }));
    writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lockfileFor(tarball, join(project, tarball))));
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project);
    copyFileSync(join(support, 'check.mjs'), join(project, 'check.mjs'));
    copyFileSync(join(support, 'edge-runtime.mjs'), join(project, 'edge-runtime.mjs'));

    server = await startTestServer('sqlite');
    const agent = await createAgent(server);
    agentId = agent.id;
    worker = runWorker({ url: server.url, agentId, token: agent.token, handler: () => ({ sum: 4 }) });
    mailbox = await startMailbox();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await server?.stop();
    mailbox?.server.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('brings at most 5 packages, none with an install script or a native module', () => {
    const installed = installedPackages(project);
    expect(installed.map((p) => p.json.name).sort()).toEqual(['@agentjobs/sdk', '@noble/hashes', '@sinclair/typebox', 'eventsource-parser']);
    expect(installed.length).toBeLessThanOrEqual(5);
    for (const { dir, json } of installed) {
      const scripts = Object.keys(json.scripts ?? {}).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s));
      expect({ name: json.name, scripts, gyp: existsSync(join(dir, 'binding.gyp')) }).toEqual({ name: json.name, scripts: [], gyp: false });
    }
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    expect(Object.values(lock.packages).filter((entry: any) => entry.hasInstallScript)).toEqual([]);
  });

  it.each([
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ])('type-checks under strict with moduleResolution %s', async (name, resolution) => {
    writeFileSync(
      join(project, `uses-${name}.ts`),
      [
        "import { AgentJobsClient, AgentJobsError, type Job, type ListJobsFilters } from '@agentjobs/sdk/client';",
        "import { verifyWebhook, verifyWebhookAsync, type WebhookPayload } from '@agentjobs/sdk/webhooks';",
        "import { runWorker } from '@agentjobs/sdk/worker';",
        "import { DispatchRequest } from '@agentjobs/sdk/protocol';",
        "const client = new AgentJobsClient({ url: 'http://127.0.0.1:8080', apiKey: 'ak_x' });",
        "const filters: ListJobsFilters = { status: 'completed', metadata: { customer: 'acme' } };",
        'export const jobs: Promise<Job[]> = client.listJobs(filters).then((page) => page.data);',
        "export const event: WebhookPayload = verifyWebhook('whsec_x', new Headers(), new Uint8Array());",
        "export const later: Promise<WebhookPayload> = verifyWebhookAsync('whsec_x', {}, '');",
        "export const worker = runWorker({ agentId: 'agent_x', token: 'awt_x', handler: async (job) => job.brief.objective });",
        'export const schema: object = DispatchRequest;',
        'export const isError = (e: unknown) => e instanceof AgentJobsError && e.code === "job_not_found";',
      ].join('\n'),
    );
    // No @types/node and skipLibCheck off: the SDK's declarations must stand on the standard library alone.
    const config = { compilerOptions: { strict: true, target: 'es2022', noEmit: true, skipLibCheck: false, types: [], ...resolution }, files: [`uses-${name}.ts`] };
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config));
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${name}.json`], project);
  });

  it.each([
    ['on Node', []],
    ['without undici nor any Node built-in, as in an edge runtime', ['--import', './edge-runtime.mjs']],
  ])('dispatches, waits and verifies the webhook %s', async (_, flags) => {
    const args = JSON.stringify({ url: server.url, apiKey: server.apiKey, agentId, receiver: mailbox.url });
    const output = JSON.parse(await run(process.execPath, [...flags, 'check.mjs', args], project));
    expect(output).toMatchObject({
      status: 'completed',
      listed: true,
      result: { sum: 4 },
      type: 'job.completed',
      asyncType: 'job.completed',
      refused: 'invalid_signature',
      refusedAsync: 'invalid_signature',
      apiError: 'job_not_found',
    });
    if (flags.length > 0) expect(output.blocked).toEqual([true, true, true]);
  });
});

describe('the server package keeps its subpaths', () => {
  it('agentjobs/client, /worker and /webhooks are the SDK\'s own modules', async () => {
    const script = `
      const pairs = await Promise.all(['client', 'worker', 'webhooks'].map(async (name) => [
        await import('agentjobs/' + name), await import('@agentjobs/sdk/' + name)]));
      const same = pairs.map(([ours, sdk]) => Object.keys(sdk).length > 0 && Object.keys(sdk).every((key) => ours[key] === sdk[key]));
      console.log(JSON.stringify(same));`;
    expect(JSON.parse(await run(process.execPath, ['--input-type=module', '-e', script], root))).toEqual([true, true, true]);
  });
});

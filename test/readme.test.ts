import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServer } from './support/process.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The first ```sh block after a heading of the README. */
function shellBlock(heading: string): string {
  const section = readme.slice(readme.indexOf(heading));
  const match = /```sh\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error(`no sh block under ${heading}`);
  return match[1];
}

describe("the README's quick start, as written", () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('starts with npm start, which serves the built CLI', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(readme).toContain('npm install\nnpm start');
    expect(pkg.scripts.start).toBe('node dist/cli/main.js serve');
    expect(pkg.scripts.prepare).toContain('npm run build');
  });

  it('creates an agent, runs the example worker, dispatches with curl and sees the job complete', async () => {
    // The server as `npm start` runs it, on a free port and a fresh data dir instead of 8080 and ./data.
    const dataDir = mkdtempSync(join(tmpdir(), 'agentjobs-readme-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await spawnServer(dataDir, [], {});
    cleanup.push(() => server.kill());
    const script = shellBlock('## Quick start')
      .replaceAll('http://127.0.0.1:8080', server.url)
      .replaceAll('data/admin.key', join(dataDir, 'admin.key'));
    const output = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-e', '-c', script], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const dispatched = JSON.parse(output.split('\n').find((line) => line.startsWith('{"id":"job_'))!);
    expect(Object.keys(dispatched).sort()).toEqual(['agent_id', 'created_at', 'id', 'status']);
    expect(output).toContain('event: job.completed');
    const final = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(final).toMatchObject({ id: dispatched.id, status: 'completed', result: { answer: 'You asked: Summarise the plot of Hamlet' } });
  });
});

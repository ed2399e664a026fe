import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The built CLI that `npm run build` writes; the tests run it as users do. */
export const CLI = join(process.cwd(), 'dist', 'cli', 'main.js');

/**
 * Fails loudly when the build is missing or older than the sources: testing a stale binary would report on
 * code that is not the code under review.
 */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const built = statSync(CLI).mtimeMs;
  const newer = newestSource(join(process.cwd(), 'src'));
  if (newer.mtimeMs > built + 1000) throw new Error(`${newer.path} is newer than dist/: run npm run build first`);
}

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

/** What a finished command left behind. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An environment without the caller's AGENTJOBS_* settings, so a developer's shell cannot change a test. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AGENTJOBS_') && key !== 'FORCE_COLOR') env[key] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs `node dist/cli/main.js …args` and resolves when it exits (killed after `timeoutMs`). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliRun> & { pid?: number } {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return Object.assign(done, { pid: child.pid });
}

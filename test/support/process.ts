import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The built command, as users run it (`npm test` builds first). */
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** A real `agentjobs serve` process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /**
   * The first API key, read from `<data-dir>/admin.key`. Empty when another process created the first key
   * (several servers started on one PostgreSQL database: exactly one of them creates it).
   */
  apiKey: string;
  /** Everything the process wrote to stderr. */
  stderr: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Spawns the built CLI (`dist/cli/main.js`) and resolves once it listens. With `--allow-private-webhooks` (tests'
 * receivers are local) unless `privateWebhooks` is false.
 */
export async function spawnServer(dataDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, { privateWebhooks = true } = {}): Promise<ServerProcess> {
  requireBuild();
  const flags = privateWebhooks ? ['--allow-private-webhooks'] : [];
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...flags, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stdout!.on('data', () => {});
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${err}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${err}`));
    });
  });
  const keyFile = join(dataDir, 'admin.key');
  return {
    url,
    child,
    apiKey: existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '',
    stderr: () => err,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does).`);
}

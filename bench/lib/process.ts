/**
 * Helpers to run a server under test in its own process: pick a port, spawn, wait until it
 * answers, read its resident memory, stop it.
 *
 * The server runs in a separate process so that it gets its own event loop and, on a 2-core
 * machine, its own core — the load generator's CPU use must not count against the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Children still running. If the benchmark exits early (an exception, Ctrl-C) they are killed
 * on the way out, so no server outlives the run and skews the next one.
 */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Options of {@link spawnServer}. */
export interface SpawnServerOptions {
  /** Executable, e.g. `process.execPath`. */
  command: string;
  /** Arguments. */
  args: string[];
  /** Working directory. @default process.cwd() */
  cwd?: string;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
  /** Port the server will listen on; {@link SpawnedServer.ready} resolves once it accepts connections. */
  port: number;
  /**
   * Path to GET until it answers 2xx (e.g. `/healthz`); without it, an accepted TCP connection
   * counts as ready.
   */
  readyPath?: string;
  /** Give up after this long. @default 30000 */
  readyTimeoutMs?: number;
  /** A label for error messages. */
  name: string;
}

/** A server process started by {@link spawnServer}. */
export interface SpawnedServer {
  /** The child process. */
  child: ChildProcess;
  /** Its pid. */
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The last ~8 KiB of its stdout and stderr, for error messages. */
  output(): string;
  /** Resident set size in bytes, read from /proc; NaN where /proc is not available. */
  rssBytes(): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Finds a free TCP port on 127.0.0.1 by binding port 0 and releasing it. Another process could
 * take it in between; on a benchmark machine that race is theoretical.
 */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Reads VmRSS of a process from `/proc/<pid>/status`.
 * @returns bytes, or NaN when the file is unreadable (not Linux, process gone)
 */
export async function readRssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function httpReady(origin: string, path: string): Promise<boolean> {
  try {
    const res = await fetch(origin + path, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Spawns a server process and resolves once it is ready. Rejects — with the process's own
 * output, which usually says why — if it exits first or is not ready in time.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<SpawnedServer> {
  const { command, args, port, readyPath, readyTimeoutMs = 30_000, name } = options;
  const child = spawn(command, args, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    });
  });
  child.once('error', (error) => {
    exited = `failed to start: ${error.message}`;
  });

  const origin = `http://127.0.0.1:${port}`;
  const server: SpawnedServer = {
    child,
    pid: child.pid ?? -1,
    origin,
    output: () => tail,
    rssBytes: () => readRssBytes(child.pid ?? -1),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exitPromise.then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exitPromise;
      }
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} ${exited} before it was ready:\n${tail}`);
    const ready = readyPath ? await httpReady(origin, readyPath) : await tcpAccepts(port);
    if (ready) return server;
    if (Date.now() > deadline) {
      await server.stop(1000);
      throw new Error(`${name} was not ready on port ${port} after ${readyTimeoutMs} ms:\n${tail}`);
    }
    await sleep(50);
  }
}

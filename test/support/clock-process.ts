import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./clock-server.mjs', import.meta.url));

/** A server process (test/support/clock-server.mjs) whose clock runs `offset` ms ahead of the real one. */
export interface ClockServer {
  url: string;
  firstKey: string | null;
  child: ChildProcess;
  /** Sets how far ahead the process's clock runs; resolves once the process has taken it. */
  setOffset(offset: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Forks a server on `databaseUrl` with a clock the test moves; resolves once it listens. */
export async function forkClockServer(dataDir: string, databaseUrl: string): Promise<ClockServer> {
  const child = fork(SCRIPT, [dataDir, databaseUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = await new Promise<{ url: string; firstKey: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('clock server did not start')), 30_000);
    child.once('message', (message: any) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code) => reject(new Error(`clock server exited with ${code}`)));
  });
  let seq = 0;
  return {
    ...started,
    child,
    setOffset: (offset) =>
      new Promise<void>((resolve) => {
        const mine = ++seq;
        const onMessage = (message: any) => {
          if (message?.ack !== mine) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send({ offset, seq: mine });
      }),
    kill: (signal = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

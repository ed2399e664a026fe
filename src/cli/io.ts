/** Where a command writes and what it reads of the process: tests pass their own, the CLI the process's. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** The terminal's size, when stdout is one (`watch` fits its frame to it). */
  size?: () => { columns: number; rows: number };
  /** Reads all of stdin (`--context @-`). */
  readStdin?: () => Promise<string>;
}

/** The process's streams, environment and terminal. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    size: () => ({ columns: process.stdout.columns ?? 100, rows: process.stdout.rows ?? 40 }),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/**
 * Exit codes scripts can rely on (docs/cli.md). Job outcomes come first and small, so `dispatch --wait`
 * reads like a test runner; failures of the command itself are distinct from a job that failed.
 */
export const EXIT = {
  /** Done; with `--wait`/`watch`: the job completed. */
  ok: 0,
  /** With `--wait`/`watch`: the job failed. (`serve`, `migrate` and `keys create` also use it when they fail.) */
  jobFailed: 1,
  /** With `--wait`/`watch`: the job was cancelled. */
  jobCancelled: 2,
  /** The API answered an error; its code is printed (`job_not_found`, `invalid_request`, …). */
  apiError: 3,
  /** The server could not be reached, or the connection broke. */
  unreachable: 4,
  /** Bad usage: unknown command or option, a malformed value, no API key found (sysexits EX_USAGE). */
  usage: 64,
  /** An unexpected error in the CLI itself: a bug (sysexits EX_SOFTWARE). Never a job outcome. */
  internal: 70,
} as const;

/** An error the CLI reports in one line, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The exit code of a finished job. */
export function exitCodeOfStatus(status: string): number {
  if (status === 'completed') return EXIT.ok;
  if (status === 'cancelled') return EXIT.jobCancelled;
  return EXIT.jobFailed;
}

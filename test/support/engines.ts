import type { ServerOptions } from '../../src/options.js';

/** The store engines a test can run on. */
export type Engine = 'sqlite' | 'postgres';

/** Every engine the shared suite runs on. */
export const ENGINES: Engine[] = ['sqlite'];

/** Server options that select an engine (a fresh database for PostgreSQL). */
export async function engineOptions(engine: Engine, _dataDir?: string): Promise<ServerOptions> {
  if (engine === 'sqlite') return {};
  throw new Error('PostgreSQL tests are not wired up yet');
}

import { Option } from 'commander';

/** A `--data-dir` option (`AGENTJOBS_DATA_DIR`), shared by the commands that open the store. */
export function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'folder of the SQLite file and admin.key').env('AGENTJOBS_DATA_DIR').default('./data');
}

/** A `--database-url` option (`DATABASE_URL`, `AGENTJOBS_DATABASE_URL`): PostgreSQL instead of SQLite. */
export function databaseUrlOption(): Option {
  return new Option('--database-url <url>', 'postgres://… to use PostgreSQL instead of the SQLite file (also DATABASE_URL)').env(
    'AGENTJOBS_DATABASE_URL',
  );
}

import { readdirSync, readFileSync } from 'node:fs';

/** A numbered migration: `NNN_name.sql`, applied once, in order. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads the numbered `.sql` files of a migrations folder, in order. */
export function loadMigrations(folder: URL): Migration[] {
  return readdirSync(folder)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, file.indexOf('_'))),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(new URL(file, folder), 'utf8'),
    }));
}

// Copies what tsc does not: the numbered .sql migrations and the dashboard's static files, next to the
// compiled modules that load them (dist/ mirrors src/).
import { cpSync, existsSync } from 'node:fs';

const copies = [
  ['src/store/sqlite/migrations', 'dist/store/sqlite/migrations'],
  ['src/store/postgres/migrations', 'dist/store/postgres/migrations'],
  ['src/dashboard/public', 'dist/dashboard/public'],
];
for (const [from, to] of copies) {
  if (existsSync(from)) cpSync(from, to, { recursive: true });
}

// A real `agentjobs` server process whose clock the test moves (over IPC): several processes on one PostgreSQL
// can then be walked through hours of schedule fires in seconds, and killed with SIGKILL like any process.
// Runs the built server (dist/), as the spawned CLI does. Args: <data-dir> <database-url>.
import { startServer } from '../../dist/server.js';

let offset = 0;
process.on('message', (message) => {
  if (typeof message?.offset === 'number') {
    offset = message.offset;
    process.send({ ack: message.seq });
  }
});
const [dataDir, databaseUrl] = process.argv.slice(2);
const server = await startServer({
  port: 0,
  host: '127.0.0.1',
  dataDir,
  databaseUrl,
  logLevel: 'warn',
  announce: () => {},
  clock: () => Date.now() + offset,
});
process.send({ url: server.url, firstKey: server.firstKey });
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});

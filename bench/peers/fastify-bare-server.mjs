// @ts-check
/**
 * The HTTP ceiling: a Fastify server whose `POST /v1/jobs` parses the body and answers 202 with
 * the four fields of an agentjobs dispatch, storing nothing. Run as its own process by
 * fastify-bare.ts:
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000
 *
 * With `--sqlite FILE` it is the durable floor instead: each job is inserted into a one-table SQLite file (WAL,
 * `synchronous=FULL`) and answered only after its commit, the writes of one turn of the event loop sharing one
 * transaction and one fsync (group commit, as agentjobs does). It shows what durability itself costs here,
 * without any of agentjobs' checks, indexes or events:
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000 --sqlite /tmp/floor.db
 *
 * With `--checked KEY` it also does the two checks every dispatch API owes its callers before it stores anything: it
 * takes a bearer API key (a header read and one map lookup, what agentjobs pays for a caller it has seen) and
 * validates the body against agentjobs' own `DispatchRequest` schema (from dist/protocol, compiled by Fastify's
 * Ajv). With both flags it is the checked durable floor: the least an authenticated, validated, durable dispatch
 * costs on this framework and this disk, before any design of its own.
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000 --checked ak_key --sqlite /tmp/floor.db
 *
 * Plain JavaScript run by plain `node`, not TypeScript through tsx: agentjobs runs compiled from
 * dist/ without a loader, and the ceiling must run the same way (the same file under
 * `--import tsx` answered about 8 % fewer requests per second here: median of 7 paired rounds).
 *
 * It does what any dispatch endpoint must do per request — parse JSON, mint a job id, serialise
 * the answer with a compiled serializer, set `Location` — and nothing that agentjobs adds
 * (validation, auth, storage), so agentjobs' dispatch rate divided by this one is the share of
 * the framework's ceiling that agentjobs keeps.
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { monotonicFactory } from 'ulid';

const USAGE = 'usage: fastify-bare-server.mjs --port <port> [--checked <api key>] [--sqlite <file>]';

/**
 * The value after `flag` on the command line; undefined when the flag is absent. A flag given without a value
 * ends the process with the usage line.
 * @param {string} flag
 */
function flagValue(flag) {
  const at = process.argv.indexOf(flag);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value) {
    console.error(USAGE);
    process.exit(2);
  }
  return value;
}

const port = Number(flagValue('--port'));
if (!Number.isInteger(port) || port <= 0) {
  console.error(USAGE);
  process.exit(2);
}

// One factory for the whole process: ulid@3's bare `ulid()` looks up the random source on every
// call (~90 µs here, a 5× slowdown of this endpoint); a factory looks it up once (~1 µs/id).
const ulid = monotonicFactory();

const sqliteFile = flagValue('--sqlite');
const store = sqliteFile ? groupCommit(sqliteFile) : undefined;
const apiKey = flagValue('--checked');
// The Authorization headers a checked server takes, looked up per request (agentjobs remembers a caller by its token).
const callers = new Set(apiKey ? [`Bearer ${apiKey}`] : []);
// Loaded only when asked for: the plain ceiling must not depend on a build of agentjobs.
const dispatchSchema = apiKey ? (await import('../../dist/protocol/index.js')).DispatchRequest : undefined;

/**
 * A durable store at its simplest: one table, one insert per job, and every insert queued during one turn of
 * the event loop committed together (one fsync), each caller answered after the commit.
 * @param {string} file
 */
function groupCommit(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, brief TEXT NOT NULL, created_at INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO jobs (id, agent_id, brief, created_at) VALUES (?, ?, ?, ?)');
  /** @type {Array<{ row: unknown[]; resolve: (value: undefined) => void; reject: (error: unknown) => void }>} */
  let queue = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    try {
      db.transaction(() => batch.forEach((write) => insert.run(...write.row)))();
    } catch (error) {
      // A failed commit (disk full…) fails its requests (500), not the process.
      return batch.forEach((write) => write.reject(error));
    }
    batch.forEach((write) => write.resolve(undefined));
  };
  /** @param {unknown[]} row */
  return (row) =>
    new Promise((resolve, reject) => {
      if (queue.push({ row, resolve, reject }) === 1) setImmediate(flush);
    });
}

// Validation as strict as agentjobs' own: no coercion, no silent removal of unknown fields.
const app = Fastify({ logger: false, ...(apiKey ? { ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } } } : {}) });

app.post(
  '/v1/jobs',
  {
    ...(apiKey
      ? {
          onRequest: async (request, reply) => {
            if (!callers.has(String(request.headers.authorization))) return reply.code(401).send({ error: { code: 'unauthenticated' } });
          },
        }
      : {}),
    schema: {
      ...(dispatchSchema ? { body: dispatchSchema } : {}),
      response: {
        202: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            agent_id: { type: 'string' },
            status: { type: 'string' },
            created_at: { type: 'string' },
          },
        },
      },
    },
  },
  async (request, reply) => {
    const id = `job_${ulid().toLowerCase()}`;
    const body = /** @type {{ agent_id?: unknown; brief?: unknown }} */ (request.body);
    const createdAt = Date.now();
    if (store) await store([id, String(body.agent_id), JSON.stringify(body.brief), createdAt]);
    reply.code(202).header('location', `/v1/jobs/${id}`);
    return {
      id,
      agent_id: typeof body.agent_id === 'string' ? body.agent_id : '',
      status: 'queued',
      created_at: new Date(createdAt).toISOString(),
    };
  },
);

app.get('/healthz', async () => ({ ok: true }));

// The runner stops this process with SIGTERM; close so in-flight responses are not cut.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

await app.listen({ port, host: '127.0.0.1' });

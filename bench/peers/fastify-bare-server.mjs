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
 * validates the body against agentjobs' own `DispatchRequest` schema (from @agentjobs/sdk/protocol, compiled by Fastify's
 * Ajv). With both flags it is the checked durable floor: the least an authenticated, validated, durable dispatch
 * costs on this framework and this disk, before any design of its own.
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000 --checked ak_key --sqlite /tmp/floor.db
 *
 * With `--worker-token TOKEN` as well it is the worker-protocol floor, for the latency group: it also answers the two
 * calls a worker makes (SPEC §6) for bearers of that token — `POST /v1/agents/{id}/claim`, which long-polls, and
 * `POST /v1/jobs/{id}/complete` — both validated with agentjobs' own schemas and stored in the same file. A
 * dispatch that finds a claim waiting writes its job already leased, in its own commit, and that claim is answered
 * when the commit is on disk (agentjobs hands a job over the same way). A job dispatched with `completed` webhook
 * observers gets, in its complete's commit, one message row per observer (a durable outbox); after the commit each
 * is signed (Standard Webhooks, HMAC-SHA256), POSTed (at most 10 at once per origin) and its attempt recorded.
 * Nothing else: no event log, no retries, no URL checks, no check of the result against the brief's
 * `output_schema`, one lease length. What a durable job server speaking agentjobs' protocol over HTTP costs on
 * this machine, before any design of its own:
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000 --checked ak_key --sqlite /tmp/floor.db --worker-token awt_t
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
import { createHmac, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { monotonicFactory } from 'ulid';
import { Pool } from 'undici';

const USAGE = 'usage: fastify-bare-server.mjs --port <port> [--checked <api key>] [--sqlite <file>] [--worker-token <token>]';

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
const workerToken = flagValue('--worker-token');
if (workerToken && !(store && apiKey)) {
  console.error(`${USAGE}\n--worker-token needs --checked and --sqlite`);
  process.exit(2);
}

/**
 * An `onRequest` hook taking only `Bearer <token>`: the `Authorization` header looked up in a set, what agentjobs
 * pays for a caller it has seen (it remembers callers by their token).
 * @param {string} token
 * @returns {import('fastify').onRequestHookHandler}
 */
function bearer(token) {
  const callers = new Set([`Bearer ${token}`]);
  return async (request, reply) => {
    if (!callers.has(String(request.headers.authorization))) return reply.code(401).send({ error: { code: 'unauthenticated' } });
  };
}
// Loaded only when asked for: the plain ceiling must not depend on a build of agentjobs.
const protocol = apiKey ? await import('@agentjobs/sdk/protocol') : undefined;

/**
 * @typedef {Record<'insert' | 'insertJob' | 'claim' | 'complete' | 'message' | 'answered', import('better-sqlite3').Statement>} Statements
 * @typedef {(statements: Statements) => unknown} Write a write run inside a batch's transaction; what it returns is
 *   the caller's answer once the batch is committed
 */

/**
 * A durable store at its simplest: a jobs table (and the webhook messages' table), and every write queued during one turn of the event loop
 * committed together (one fsync), each caller answered after the commit.
 * @param {string} file
 */
function groupCommit(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, agent_id TEXT NOT NULL, brief TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT, lease_token TEXT, lease_expires_at INTEGER, result TEXT)',
  );
  db.exec(
    'CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, job_id TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, answered_at INTEGER)',
  );
  /** @type {Statements} */
  const statements = {
    insert: db.prepare('INSERT INTO jobs (id, agent_id, brief, created_at) VALUES (?, ?, ?, ?)'),
    insertJob: db.prepare('INSERT INTO jobs (id, agent_id, brief, created_at, status, lease_token, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    claim: db.prepare("UPDATE jobs SET status = 'running', lease_token = ?, lease_expires_at = ? WHERE id = ?"),
    complete: db.prepare("UPDATE jobs SET status = 'completed', result = ?, lease_token = NULL WHERE id = ? AND lease_token = ? AND status = 'running'"),
    message: db.prepare("INSERT INTO messages (id, job_id, url, body, status) VALUES (?, ?, ?, ?, 'pending')"),
    answered: db.prepare('UPDATE messages SET status = ?, answered_at = ? WHERE id = ?'),
  };
  /** @type {Array<{ write: Write; resolve: (value: unknown) => void; reject: (error: unknown) => void }>} */
  let queue = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    /** @type {unknown[]} */
    let results;
    try {
      results = db.transaction(() => batch.map((entry) => entry.write(statements)))();
    } catch (error) {
      // A failed commit (disk full…) fails its requests (500), not the process.
      return batch.forEach((entry) => entry.reject(error));
    }
    batch.forEach((entry, i) => entry.resolve(results[i]));
  };
  /** @param {Write} write */
  return (write) =>
    new Promise((resolve, reject) => {
      if (queue.push({ write, resolve, reject }) === 1) setImmediate(flush);
    });
}

// The worker protocol's state. A claim that finds nothing waits in `waiting` until a dispatch for its agent
// leases it a job inside the dispatch's own transaction; jobs dispatched while no claim waits are `queued`.
const LEASE_MS = 30_000;
/** @typedef {{ want: number; jobs: string[]; pending: number; answer: (jobs: string[]) => void }} Waiter */
/** @type {Map<string, Waiter[]>} */
const waiting = new Map();
/** @type {Map<string, string[]>} ids of jobs queued per agent, oldest first */
const queued = new Map();
/** @type {Map<string, string>} what a claim answers for a job, without its lease, by id */
const jobJson = new Map();

/** @type {Map<string, { urls: string[]; agentId: string; brief: string; createdAt: number }>} jobs with `completed` webhooks, by id */
const webhooks = new Map();
/** The key every message is signed with (Standard Webhooks: HMAC-SHA256 of `id.timestamp.body`). */
const WEBHOOK_KEY = randomBytes(24);
/** @type {Map<string, Pool>} one connection pool per receiving origin, 10 connections: at most 10 messages in flight to it */
const webhookPools = new Map();

/**
 * Sends one committed message, signed, and records how it was answered (no retry: the bench's receiver answers 204).
 * @param {{ id: string; url: string; body: string }} message
 */
async function deliver(message) {
  const url = new URL(message.url);
  let pool = webhookPools.get(url.origin);
  if (!pool) webhookPools.set(url.origin, (pool = new Pool(url.origin, { connections: 10, pipelining: 1 })));
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', WEBHOOK_KEY).update(`${message.id}.${timestamp}.${message.body}`).digest('base64');
  let status = 'failed';
  try {
    const answer = await pool.request({
      method: 'POST',
      path: url.pathname,
      headers: { 'content-type': 'application/json', 'webhook-id': message.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` },
      body: message.body,
    });
    await answer.body.dump();
    if (answer.statusCode >= 200 && answer.statusCode < 300) status = 'delivered';
  } catch {
    // Recorded as failed below.
  }
  await store?.((s) => s.answered.run(status, Date.now(), message.id));
}

/** @param {string} id @param {string} agentId @param {string} brief @param {number} createdAt */
function jobText(id, agentId, brief, createdAt) {
  return `{"id":"${id}","agent_id":${JSON.stringify(agentId)},"status":"running","brief":${brief},"created_at":"${new Date(createdAt).toISOString()}"}`;
}

/** One claimed job as a claim answers it, with a new lease. @param {string} job */
function leased(job) {
  const token = `lease_${randomBytes(18).toString('base64url')}`;
  const expiresAt = Date.now() + LEASE_MS;
  return { token, expiresAt, text: `{"job":${job},"lease":{"token":"${token}","expires_at":"${new Date(expiresAt).toISOString()}"}}` };
}

/**
 * A dispatch's write without the worker protocol (the dispatch floors): the job's row, nothing more.
 * @param {string} id @param {string} agentId @param {string} brief @param {number} createdAt
 * @returns {Write}
 */
function insertWrite(id, agentId, brief, createdAt) {
  return (s) => s.insert.run(id, agentId, brief, createdAt);
}

/**
 * A dispatch's write with the worker protocol: its job, leased at once to the first claim waiting on its agent with room, or queued.
 * @param {string} id @param {string} agentId @param {string} brief @param {number} createdAt
 * @returns {Write}
 */
function dispatchWrite(id, agentId, brief, createdAt) {
  return (s) => {
    const waiter = waiting.get(agentId)?.find((w) => w.jobs.length + w.pending < w.want);
    if (!waiter) {
      s.insertJob.run(id, agentId, brief, createdAt, 'queued', null, null);
      return () => {
        jobJson.set(id, jobText(id, agentId, brief, createdAt));
        let ids = queued.get(agentId);
        if (!ids) queued.set(agentId, (ids = []));
        ids.push(id);
      };
    }
    const lease = leased(jobText(id, agentId, brief, createdAt));
    s.insertJob.run(id, agentId, brief, createdAt, 'running', lease.token, lease.expiresAt);
    waiter.pending++;
    // Committed: the waiting claim is answered with what it was given (after every write of the batch has run,
    // so one claim takes all the jobs its batch leased it).
    return () => {
      waiter.pending--;
      waiter.jobs.push(lease.text);
      queueMicrotask(() => waiter.jobs.length && answerWaiter(agentId, waiter));
    };
  };
}

/** @param {string} agentId @param {Waiter} waiter */
function answerWaiter(agentId, waiter) {
  const list = waiting.get(agentId);
  const at = list?.indexOf(waiter) ?? -1;
  if (at < 0) return;
  list?.splice(at, 1);
  waiter.answer(waiter.jobs);
}

// Validation as strict as agentjobs' own: no coercion, no silent removal of unknown fields.
const app = Fastify({ logger: false, ...(apiKey ? { ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } } } : {}) });

app.post(
  '/v1/jobs',
  {
    ...(apiKey ? { onRequest: bearer(apiKey) } : {}),
    schema: {
      ...(protocol ? { body: protocol.DispatchRequest } : {}),
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
    const body = /** @type {{ agent_id?: unknown; brief?: unknown; observers?: { url: string; events: string[] }[] }} */ (request.body);
    const createdAt = Date.now();
    if (store) {
      const agentId = String(body.agent_id);
      const brief = JSON.stringify(body.brief);
      const write = workerToken ? dispatchWrite : insertWrite;
      const committed = await store(write(id, agentId, brief, createdAt));
      if (workerToken) {
        /** @type {() => void} */ (committed)();
        const urls = (body.observers ?? []).filter((o) => o.events.includes('completed')).map((o) => o.url);
        if (urls.length) webhooks.set(id, { urls, agentId, brief, createdAt });
      }
    }
    reply.code(202).header('location', `/v1/jobs/${id}`);
    return {
      id,
      agent_id: typeof body.agent_id === 'string' ? body.agent_id : '',
      status: 'queued',
      created_at: new Date(createdAt).toISOString(),
    };
  },
);

if (workerToken && protocol && store) {
  const { ClaimRequest, CompleteRequest } = protocol;
  const workerOnly = bearer(workerToken);

  app.post('/v1/agents/:agentId/claim', { onRequest: workerOnly, schema: { body: ClaimRequest } }, async (request, reply) => {
    const { agentId } = /** @type {{ agentId: string }} */ (request.params);
    const { max_jobs: want = 1, wait_seconds: waitSeconds = 0 } = /** @type {{ max_jobs?: number; wait_seconds?: number }} */ (request.body);
    const ids = queued.get(agentId) ?? [];
    const taken = ids.splice(0, want);
    /** @type {string[]} */
    let jobs = [];
    if (taken.length) {
      const leases = taken.map((id) => ({ id, ...leased(String(jobJson.get(id))) }));
      try {
        await store((s) => leases.forEach((l) => s.claim.run(l.token, l.expiresAt, l.id)));
      } catch (error) {
        ids.unshift(...taken);
        throw error;
      }
      for (const id of taken) jobJson.delete(id);
      jobs = leases.map((l) => l.text);
    } else if (waitSeconds > 0) {
      jobs = await new Promise((resolve) => {
        /** @type {Waiter} */
        const waiter = {
          want,
          jobs: [],
          pending: 0,
          answer: (given) => {
            clearTimeout(timer);
            resolve(given);
          },
        };
        let list = waiting.get(agentId);
        if (!list) waiting.set(agentId, (list = []));
        list.push(waiter);
        // Gone (time is up, or the worker hung up) unless a batch not yet committed has leased it a job.
        const leave = () => waiter.pending === 0 && answerWaiter(agentId, waiter);
        const timer = setTimeout(leave, waitSeconds * 1000);
        reply.raw.once('close', leave);
      });
    }
    reply.type('application/json');
    return `{"jobs":[${jobs.join(',')}]}`;
  });

  app.post('/v1/jobs/:id/complete', { onRequest: workerOnly, schema: { body: CompleteRequest } }, async (request, reply) => {
    const { id } = /** @type {{ id: string }} */ (request.params);
    const { lease_token: leaseToken, result } = /** @type {{ lease_token: string; result: unknown }} */ (request.body);
    const resultJson = JSON.stringify(result);
    const hook = webhooks.get(id);
    const messages = (hook?.urls ?? []).map((url) => ({
      id: `msg_${ulid().toLowerCase()}`,
      url,
      body: `{"type":"job.completed","timestamp":"${new Date().toISOString()}","data":{"job":{"id":"${id}","agent_id":${JSON.stringify(hook?.agentId)},"status":"completed","brief":${hook?.brief},"result":${resultJson},"created_at":"${new Date(hook?.createdAt ?? 0).toISOString()}"}}}`,
    }));
    const changed = await store((s) => {
      const n = s.complete.run(resultJson, id, leaseToken).changes;
      if (n) for (const m of messages) s.message.run(m.id, id, m.url, m.body);
      return n;
    });
    if (!changed) return reply.code(409).send({ error: { code: 'lease_lost' } });
    if (hook) {
      webhooks.delete(id);
      for (const message of messages) void deliver(message);
    }
    reply.type('application/json');
    return `{"id":"${id}","status":"completed"}`;
  });
}

app.get('/healthz', async () => ({ ok: true }));

// The runner stops this process with SIGTERM; close so in-flight responses are not cut.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

await app.listen({ port, host: '127.0.0.1' });

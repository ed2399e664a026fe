// @ts-check
/**
 * The HTTP ceiling: a Fastify server whose `POST /v1/jobs` parses the body and answers 202 with
 * the four fields of an agentjobs dispatch, storing nothing. Run as its own process by
 * fastify-bare.ts:
 *
 *   node bench/peers/fastify-bare-server.mjs --port 3000
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
import Fastify from 'fastify';
import { monotonicFactory } from 'ulid';

const portFlag = process.argv.indexOf('--port');
const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : Number.NaN;
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: fastify-bare-server.mjs --port <port>');
  process.exit(2);
}

// One factory for the whole process: ulid@3's bare `ulid()` looks up the random source on every
// call (~90 µs here, a 5× slowdown of this endpoint); a factory looks it up once (~1 µs/id).
const ulid = monotonicFactory();

const app = Fastify({ logger: false });

app.post(
  '/v1/jobs',
  {
    schema: {
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
    const body = /** @type {{ agent_id?: unknown }} */ (request.body);
    reply.code(202).header('location', `/v1/jobs/${id}`);
    return {
      id,
      agent_id: typeof body.agent_id === 'string' ? body.agent_id : '',
      status: 'queued',
      created_at: new Date().toISOString(),
    };
  },
);

app.get('/healthz', async () => ({ ok: true }));

// The runner stops this process with SIGTERM; close so in-flight responses are not cut.
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});

await app.listen({ port, host: '127.0.0.1' });

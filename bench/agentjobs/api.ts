/**
 * The few calls of the agentjobs HTTP API (SPEC.md §2–4) the scenarios make outside their
 * measured loops: creating an agent, dispatching one job. Kept apart from the load generators
 * so that a change of the API touches one file.
 */
import { request } from 'undici';
import { dispatchBody } from '../lib/payload.js';

/** An agent as `POST /v1/agents` returns it (only the fields the bench uses). */
export interface CreatedAgent {
  /** `agt_…` */
  id: string;
  /** `awt_…`, shown once. */
  worker_token: string;
}

/**
 * What a measured pass needs of a server speaking the agentjobs API: where it listens, a key to dispatch with, and
 * an agent with its worker token. A running agentjobs deployment is one; so is the bench's worker-protocol floor.
 */
export interface JobsTarget {
  /** One origin per server process. */
  origins: string[];
  /** An API key (`ak_…`) that may dispatch. */
  apiKey: string;
  /** The agent jobs are dispatched to. */
  agent: CreatedAgent;
}

/** A webhook observer (§5.1). */
export interface WebhookObserver {
  /** Always `webhook`. */
  type: 'webhook';
  /** Where to deliver. */
  url: string;
  /** Transitions to deliver. */
  events: ('running' | 'completed' | 'failed' | 'cancelled')[];
}

/**
 * Sends one JSON request and returns the parsed body; throws with the server's error body when
 * the status is not `expect`, since the error catalogue (§2) says what went wrong.
 */
export async function requestJson<T>(
  origin: string,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body: unknown,
  expect: number,
): Promise<T> {
  const res = await request(origin + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  if (res.statusCode !== expect) {
    throw new Error(`${method} ${path} answered ${res.statusCode} (expected ${expect}): ${text.slice(0, 500)}`);
  }
  return JSON.parse(text) as T;
}

/**
 * Creates a worker-runtime agent (§3) and returns its id and worker token. `max_concurrency`
 * is set well above the bench's 64 workers so that the agent's limit never is what is measured.
 */
export async function createAgent(origin: string, apiKey: string, name: string): Promise<CreatedAgent> {
  const agent = await requestJson<Partial<CreatedAgent>>(
    origin,
    'POST',
    '/v1/agents',
    apiKey,
    { name, description: 'benchmark agent (bench/agentjobs)', runtime: { type: 'worker' }, max_concurrency: 1000 },
    201,
  );
  if (typeof agent.id !== 'string' || typeof agent.worker_token !== 'string') {
    throw new Error(`POST /v1/agents returned no id or worker_token: ${JSON.stringify(agent)}`);
  }
  return { id: agent.id, worker_token: agent.worker_token };
}

/**
 * The serialised `POST /v1/jobs` body: the shared payload, plus observers when given.
 * Serialised once per scenario, outside the measured loop.
 */
export function dispatchJson(agentId: string, observers?: WebhookObserver[]): string {
  return JSON.stringify(observers ? { ...dispatchBody(agentId), observers } : dispatchBody(agentId));
}

/** Extracts `id` from a 202 dispatch answer. */
export function dispatchedId(body: string): string {
  const parsed = JSON.parse(body) as { id?: unknown };
  if (typeof parsed.id !== 'string') throw new Error(`dispatch answer without id: ${body.slice(0, 200)}`);
  return parsed.id;
}

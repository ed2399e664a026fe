/**
 * The one job payload every scenario sends, so that every figure in a run moves the same bytes.
 *
 * It is the `brief` of a dispatch (§4 of SPEC.md): an objective, some context and a small
 * output_schema — about 300 bytes of JSON, the size of a typical short brief.
 */

/** A job brief as dispatched to agentjobs and as job data for the peers. */
export interface JobBrief {
  /** What the agent should accomplish. */
  objective: string;
  /** Background the agent needs. */
  context: string;
  /** JSON Schema of the expected result. */
  output_schema: Record<string, unknown>;
}

/** The brief. Frozen: a scenario mutating it would change the bytes every other scenario sends. */
export const JOB_BRIEF: Readonly<JobBrief> = Object.freeze({
  objective: 'Compare three Node.js job queues and recommend one.',
  context: 'The team runs PostgreSQL and about 50,000 background tasks a day.',
  output_schema: {
    type: 'object',
    required: ['recommendation'],
    properties: {
      recommendation: { type: 'string' },
      queues: { type: 'array', items: { type: 'string' } },
    },
  },
});

/**
 * An agent id in the shape agentjobs uses (`agt_` + lowercase ULID). The bare endpoint and the
 * peers carry it in their payload so that their bytes match an agentjobs dispatch exactly.
 */
export const PLACEHOLDER_AGENT_ID = 'agt_01jbenchpeer00000000000000';

/** Body of `POST /v1/jobs` for `agentId`: `{agent_id, brief}`. */
export function dispatchBody(agentId: string): { agent_id: string; brief: Readonly<JobBrief> } {
  return { agent_id: agentId, brief: JOB_BRIEF };
}

/** The serialised brief. */
export const JOB_BRIEF_JSON = JSON.stringify(JOB_BRIEF);

/** Size in bytes of the serialised brief, reported with the results. */
export const JOB_BRIEF_BYTES = Buffer.byteLength(JOB_BRIEF_JSON);

/**
 * The result a no-op handler returns: the smallest value the brief's output_schema accepts, so a
 * server that validates results (agentjobs does, §6) does the same work a real completion costs.
 */
export const NOOP_RESULT = Object.freeze({ recommendation: 'no-op' });

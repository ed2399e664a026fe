import { createHash } from 'node:crypto';
import type { ArtifactView, CreateArtifactRequest } from '@agentjobs/sdk/protocol';
import { JobsError, notFound } from '../domain/jobs-error.js';
import { newId } from '../domain/ids.js';
import { iso } from '../domain/time.js';
import { getArtifact, insertArtifact } from '../store/repo/artifacts-repo.js';
import { getJob, updateJob } from '../store/repo/jobs-repo.js';
import { appendEvent } from './append-event.js';
import type { JobsContext, Principal } from './context.js';
import { idempotent, type StoredResponse } from './idempotency.js';
import { lockLeasedJob } from './lease.js';

/**
 * `POST /v1/jobs/{id}/artifacts`: the worker holding the job stores a file of it (SPEC §9.3). The content is kept
 * byte for byte; the job object lists the artifact without it. Honours `Idempotency-Key` (scoped to the job,
 * across its attempts), so a handler run again stores its artifacts once.
 */
export async function createArtifact(
  ctx: JobsContext,
  worker: Principal,
  jobId: string,
  input: CreateArtifactRequest,
  idempotencyKey: string | null,
): Promise<StoredResponse> {
  const content = artifactContent(input);
  if (content.length > ctx.limits.artifactBytes) {
    throw new JobsError(
      'payload_too_large',
      `The artifact is ${content.length} bytes; the limit is ${ctx.limits.artifactBytes} bytes an artifact. Store it elsewhere and keep a link to it.`,
    );
  }
  // The key stands for the content by its hash (and not for the lease, which a later attempt does not share).
  const fingerprint = { name: input.name, media_type: input.media_type, sha256: createHash('sha256').update(content).digest('base64url') };
  return ctx.store.write(async (tx) => {
    const job = await lockLeasedJob(tx, worker, jobId, input.lease_token);
    const idem = idempotencyKey ? { key: idempotencyKey, scope: `artifacts:${jobId}`, body: fingerprint } : null;
    return idempotent(tx, worker.tenantId, idem, async () => {
      const listed = JSON.parse(job.artifacts) as ArtifactView[];
      if (listed.length >= ctx.limits.artifactsPerJob) {
        throw new JobsError('artifact_limit_reached', `Job ${jobId} has ${listed.length} artifacts, the most one job keeps.`);
      }
      const view: ArtifactView = { id: newId('artifact', tx.now), name: input.name, media_type: input.media_type, size: content.length, created_at: iso(tx.now) };
      await insertArtifact(tx, {
        id: view.id,
        tenant_id: job.tenant_id,
        job_id: job.id,
        name: view.name,
        media_type: view.media_type,
        size: view.size,
        content,
        created_at: tx.now,
      });
      await updateJob(tx, job.id, { artifacts: JSON.stringify([...listed, view]) });
      await appendEvent(tx, job, 'job.artifact', view);
      return { status: 201, body: JSON.stringify(view) };
    });
  });
}

/** `GET /v1/jobs/{id}/artifacts`: the job's artifacts without content, oldest first. */
export async function listArtifactsJson(ctx: JobsContext, principal: Principal, jobId: string): Promise<string> {
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    return `{"data":${job.artifacts},"next_cursor":null}`;
  });
}

/** An artifact's content and how to serve it. */
export interface ArtifactContent {
  name: string;
  mediaType: string;
  content: Buffer;
}

/** `GET /v1/jobs/{id}/artifacts/{artifact_id}`: the content, byte for byte, with its media type. */
export async function getArtifactContent(ctx: JobsContext, principal: Principal, jobId: string, artifactId: string): Promise<ArtifactContent> {
  return ctx.store.read(async (tx) => {
    const job = await getJob(tx, principal.tenantId, jobId);
    if (!job) throw notFound('job', jobId);
    const row = await getArtifact(tx, job.id, artifactId);
    if (!row) throw new JobsError('artifact_not_found', `Job ${jobId} has no artifact '${artifactId.slice(0, 60)}'; GET /v1/jobs/${jobId}/artifacts lists them.`);
    // pg returns a Buffer for BYTEA, better-sqlite3 for BLOB.
    return { name: row.name, mediaType: row.media_type, content: Buffer.from(row.content) };
  });
}

// One character class, no groups: the test stays linear (and shallow) on a 13 MB string.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of an artifact from exactly one of `text` (UTF-8), `data` (JSON text) or `base64`. */
function artifactContent(input: CreateArtifactRequest): Buffer {
  const given = (['text', 'data', 'base64'] as const).filter((field) => input[field] !== undefined);
  if (given.length !== 1) {
    throw new JobsError(
      'invalid_request',
      given.length === 0
        ? 'An artifact needs its content: send exactly one of text, data (JSON) or base64.'
        : `Send exactly one of text, data or base64, not ${given.join(' and ')}.`,
    );
  }
  if (input.text !== undefined) return Buffer.from(input.text, 'utf8');
  if (input.data !== undefined) return Buffer.from(JSON.stringify(input.data), 'utf8');
  if (input.base64!.length % 4 !== 0 || !BASE64.test(input.base64!)) {
    throw new JobsError('invalid_request', 'base64 is not valid base64: use the standard alphabet (A–Z, a–z, 0–9, +, /) with = padding, and no line breaks.');
  }
  return Buffer.from(input.base64!, 'base64');
}

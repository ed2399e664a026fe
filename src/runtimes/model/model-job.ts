import type { Logger } from 'pino';
import { type Agent, type FailRequest, type InputRequest, type Job, JOB_ERROR_CODES, type JobMessage } from '@agentjobs/sdk/protocol';
import { JobsError } from '../../domain/jobs-error.js';
import type { JobsContext, Principal } from '../../jobs/context.js';
import { getAgentJson } from '../../jobs/agents.js';
import { completeJob } from '../../jobs/complete-job.js';
import { failJob } from '../../jobs/fail-job.js';
import { loadRuntimeState } from '../../jobs/request-input.js';
import { runAgentLoop, type AgentLoopInput, type ModelRuntimeConfig, type SavedConversation } from './agent-loop.js';
import { ModelRunError, RunStopped, type StopReason } from './errors.js';
import { JobInteraction } from './job-interaction.js';
import { apiKeyEnvAllowed, apiKeyEnvRefusal, type ResolvedModelRuntimeOptions } from './options.js';
import { OutputStream } from './output-stream.js';
import { openAiProvider } from './provider.js';
import { RunLease } from './run-lease.js';
import { JobTools } from './tools.js';

/** A job as a claim hands it over: the job object, its lease, and its questions and messages so far. */
export interface ClaimedJob {
  job: Job;
  lease: { token: string; expires_at: string };
  inputs: InputRequest[];
  messages: JobMessage[];
}

/** What running one model job needs. */
export interface ModelJobDeps {
  ctx: JobsContext;
  options: ResolvedModelRuntimeOptions;
  log: Logger;
}

/**
 * Runs one claimed job of a model agent and reports how it ended, through the same use cases a worker calls
 * over HTTP, as the worker SDK does: `completeJob` with the result; `failJob` with the error; on a requested
 * cancel, `failJob` as the confirmation (the job becomes `cancelled`). After a lost lease, a passed deadline
 * or a server shutdown nothing is reported: the job belongs to the server's timers or to the next attempt.
 * `shutdown` aborts the run when this process stops. Never rejects.
 */
export async function runModelJob(deps: ModelJobDeps, principal: Principal, claimed: ClaimedJob, shutdown: AbortSignal): Promise<void> {
  const { ctx, log } = deps;
  const { job } = claimed;
  const lease = new RunLease(ctx, principal, { id: job.id, rootJobId: job.root_job_id, leaseToken: claimed.lease.token, deadlineAt: job.deadline_at }, log);
  const onShutdown = () => lease.stop('shutdown');
  shutdown.addEventListener('abort', onShutdown, { once: true });
  if (shutdown.aborted) onShutdown();

  let outcome: { ok: true; result: unknown } | { ok: false; error: unknown };
  try {
    await lease.start();
    outcome = { ok: true, result: await run(deps, principal, claimed, lease) };
  } catch (error) {
    outcome = { ok: false, error };
  } finally {
    shutdown.removeEventListener('abort', onShutdown);
    lease.dispose();
  }

  const jobLog = log.child({ job_id: job.id, agent_id: job.agent_id, attempt: job.attempt });
  try {
    await report(deps, principal, claimed, lease, outcome, jobLog);
  } catch (error) {
    jobLog.error({ err: error }, 'model runtime: could not report the end of a job; its lease will expire and it will run again');
  }
}

/** Reads the agent's current runtime, resolves its key, and runs the agent loop. */
async function run(deps: ModelJobDeps, principal: Principal, claimed: ClaimedJob, lease: RunLease): Promise<unknown> {
  const { ctx, options, log } = deps;
  const { job } = claimed;
  // Read at the start of every run, so a PATCH of the agent applies from its next job on.
  const agent = JSON.parse(await getAgentJson(ctx, principal, job.agent_id)) as Agent;
  if (agent.runtime.type !== 'model') {
    throw new ModelRunError(JOB_ERROR_CODES.modelConfigError, `Agent ${agent.id} is no longer a model agent; the job goes back to the queue for its workers.`, {
      retryable: true,
    });
  }
  const runtime = agent.runtime as ModelRuntimeConfig;
  const provider = openAiProvider(
    {
      baseUrl: runtime.base_url,
      apiKey: apiKeyOf(runtime, options),
      timeoutMs: runtime.request_timeout_seconds != null ? runtime.request_timeout_seconds * 1000 : options.requestTimeoutMs,
    },
    { maxRetries: options.maxRetries, baseMs: options.retryBaseMs, maxMs: options.retryMaxMs },
    ({ attempt, delayMs, error }) =>
      log.warn({ job_id: job.id, agent_id: agent.id, attempt, delay_ms: delayMs, error }, 'model runtime: provider call failed; retrying'),
  );
  const resume = await resumeOf(ctx, principal, claimed);
  const leaseToken = claimed.lease.token;
  const tools = new JobTools({ ctx, principal, job, leaseToken, signal: lease.signal, askUser: runtime.ask_user === true, dispatches: resume?.conversation.dispatches });
  const output = new OutputStream(ctx, principal, job.id, leaseToken, log);
  const interaction = new JobInteraction({ ctx, principal, job, leaseToken, lease, tools, output }, claimed.messages, resume?.conversation.messagesSeen ?? 0);
  try {
    return await runAgentLoop({
      job,
      agent: { id: agent.id, name: agent.name },
      runtime,
      provider,
      tools,
      interaction,
      resume,
      validators: ctx.validators,
      maxCorrections: options.maxCorrections,
      report: (tokens, next) => lease.report(tokens, next),
      signal: lease.signal,
    });
  } finally {
    // The output is recorded before the job is completed (a finished job takes no more).
    await output.flush();
  }
}

/**
 * Where a run goes on from: the conversation stored with the job's latest answered question, when there is one.
 * A run after a lost lease starts there too, so a crash after the answer loses nothing either.
 */
async function resumeOf(ctx: JobsContext, principal: Principal, claimed: ClaimedJob): Promise<AgentLoopInput['resume']> {
  const last = claimed.inputs.filter((request) => request.status === 'answered').at(-1);
  if (!last) return undefined;
  const state = await loadRuntimeState(ctx, principal, claimed.job.id, last.id);
  return state ? { conversation: JSON.parse(state) as SavedConversation, request: last } : undefined;
}

/**
 * The API key named by the runtime's `api_key_env`, read from the environment now and never stored; null when
 * the runtime names none (local endpoints such as Ollama need no key).
 */
function apiKeyOf(runtime: ModelRuntimeConfig, options: ResolvedModelRuntimeOptions): string | null {
  const name = runtime.api_key_env;
  if (name == null) return null;
  if (!apiKeyEnvAllowed(name, options.apiKeyEnvNames)) {
    // Refused when the agent was made; reached when the operator narrowed the list since.
    throw new ModelRunError(JOB_ERROR_CODES.modelConfigError, apiKeyEnvRefusal(name, options.apiKeyEnvNames));
  }
  const key = options.env[name];
  if (!key) {
    throw new ModelRunError(
      JOB_ERROR_CODES.modelApiKeyMissing,
      `runtime.api_key_env names '${name}', but that environment variable is not set where the agentjobs server runs. Set it and restart the server, or change the agent's api_key_env.`,
    );
  }
  return key;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

/** Reports the end of a run, as the worker SDK reports the end of a handler. */
async function report(deps: ModelJobDeps, principal: Principal, claimed: ClaimedJob, lease: RunLease, outcome: Outcome, log: Logger): Promise<void> {
  const { ctx } = deps;
  const jobId = claimed.job.id;
  const base = { lease_token: claimed.lease.token, tokens_used: lease.tokensUsed };
  const fail = (input: Omit<FailRequest, 'lease_token'>) => ignoreLeaseLost(failJob(ctx, principal, jobId, { ...base, ...input }));
  const confirmCancel = () =>
    fail({ error: { code: JOB_ERROR_CODES.cancelled, message: 'The model runtime stopped the job because its cancel was requested.' } });

  const stop = lease.stopReason ?? stopOf(outcome);
  if (stop === 'lease_lost' || stop === 'timeout' || stop === 'shutdown' || stop === 'waiting') {
    log.info({ reason: stop }, 'model runtime: run stopped; nothing to report');
    return;
  }
  if (stop === 'cancel') return confirmCancel();

  if (outcome.ok) {
    try {
      await completeJob(ctx, principal, jobId, { ...base, result: outcome.result ?? null });
      log.info({ tokens_used: lease.tokensUsed }, 'model runtime: job completed');
    } catch (error) {
      if (!(error instanceof JobsError)) throw error;
      if (error.code === 'lease_lost') return;
      if (error.code === 'cancel_requested') return confirmCancel();
      // The result was checked with the same validator; this is a size limit or a schema the check missed.
      await fail({ error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } });
    }
    return;
  }

  const error = outcome.error;
  if (error instanceof ModelRunError) {
    log.info({ code: error.code, retryable: error.retryable }, `model runtime: job failed: ${error.message}`);
    await fail({
      error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) },
      retryable: error.retryable,
    });
    return;
  }
  // A bug or a store outage: another attempt may well succeed, as the SDK assumes for anything unexpected.
  log.error({ err: error }, 'model runtime: run failed unexpectedly');
  await fail({
    error: { code: JOB_ERROR_CODES.agentError, message: `The model runtime failed: ${error instanceof Error ? error.message : String(error)}` },
    retryable: true,
  });
}

/** The stop a run's own error stands for (a tool saw the lost lease or the cancel first). */
function stopOf(outcome: Outcome): StopReason | null {
  if (outcome.ok) return null;
  const error = outcome.error;
  if (error instanceof RunStopped) return error.reason;
  if (error instanceof JobsError && error.code === 'lease_lost') return 'lease_lost';
  if (error instanceof JobsError && error.code === 'cancel_requested') return 'cancel';
  return null;
}

/** A final report that finds the lease gone is not an error: the job has ended or someone else owns it now. */
async function ignoreLeaseLost(report: Promise<unknown>): Promise<void> {
  try {
    await report;
  } catch (error) {
    if (!(error instanceof JobsError && error.code === 'lease_lost')) throw error;
  }
}

-- Time and volume (SPEC §11): delayed starts, schedules, batches and re-runs.

-- When a delayed job may start (not_before, delay_seconds, a retry's backoff, a schedule's fire time); null for
-- a job that may start at once. Claims read ready_at, which a delayed job gets equal to this.
ALTER TABLE jobs ADD COLUMN scheduled_for BIGINT;
ALTER TABLE jobs ADD COLUMN schedule_id TEXT COLLATE "C";
ALTER TABLE jobs ADD COLUMN batch_id TEXT COLLATE "C";
ALTER TABLE jobs ADD COLUMN rerun_of TEXT COLLATE "C";
-- ?batch_id= and ?schedule_id= lists, a batch's counts, and a schedule's overlap check (its unfinished jobs).
CREATE INDEX jobs_batch ON jobs (batch_id, id) WHERE batch_id IS NOT NULL;
CREATE INDEX jobs_schedule ON jobs (schedule_id, id) WHERE schedule_id IS NOT NULL;

CREATE TABLE schedules (
  id            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id     TEXT COLLATE "C" NOT NULL,
  agent_id      TEXT COLLATE "C" NOT NULL,
  brief         TEXT NOT NULL,
  cron          TEXT NOT NULL,
  timezone      TEXT NOT NULL,
  overlap       TEXT NOT NULL,
  -- observers with their secrets, as a job stores them (tagged with the job when one is dispatched).
  observers     TEXT NOT NULL,
  metadata      TEXT NOT NULL,
  -- the next fire time; null while paused. A due-time row: any process may take it, exactly one fires it.
  next_run_at   BIGINT,
  last_run_at   BIGINT,
  last_job_id   TEXT COLLATE "C",
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);
CREATE INDEX schedules_tenant ON schedules (tenant_id, id);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;

-- One row per fire of a schedule: a second fire of the same time cannot be recorded, so it cannot dispatch
-- (the schedule row's lock already prevents it; this holds even if that were ever wrong).
CREATE TABLE schedule_fires (
  schedule_id  TEXT COLLATE "C" NOT NULL,
  fire_at      BIGINT NOT NULL,
  job_id       TEXT COLLATE "C",
  outcome      TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (schedule_id, fire_at)
);

CREATE TABLE batches (
  id            TEXT COLLATE "C" PRIMARY KEY,
  tenant_id     TEXT COLLATE "C" NOT NULL,
  observers     TEXT NOT NULL,
  metadata      TEXT NOT NULL,
  total         INTEGER NOT NULL,
  -- jobs of the batch that reached a terminal status: the one that makes it equal to total completes the batch.
  ended         INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT NOT NULL,
  completed_at  BIGINT
);
CREATE INDEX batches_tenant ON batches (tenant_id, id);

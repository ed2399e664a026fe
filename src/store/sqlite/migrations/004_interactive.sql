-- Interactive jobs (SPEC §9): questions a job asks a person, messages into a job, artifacts; output deltas are
-- events. A job that waits for a person stays 'running' but holds no lease.

-- The pending request as it goes on the wire (null when none), spliced into the job object like brief and result.
ALTER TABLE jobs ADD COLUMN waiting_for TEXT;
-- When the pending request expires: one of the candidates of timer_at, so the timer sweep fails the job with
-- input_timeout.
ALTER TABLE jobs ADD COLUMN input_expires_at INTEGER;
ALTER TABLE jobs ADD COLUMN input_count INTEGER NOT NULL DEFAULT 0;
-- Messages sent to the job, and how many of them the current lease has been handed (heartbeats hand the rest).
ALTER TABLE jobs ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN messages_handed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN output_bytes INTEGER NOT NULL DEFAULT 0;
-- The job's artifacts without content, as they go on the wire (a JSON array).
ALTER TABLE jobs ADD COLUMN artifacts TEXT NOT NULL DEFAULT '[]';

-- max_concurrency counts the jobs a worker holds: running, and neither waiting for a person nor back in the
-- queue for a worker. Thousands of jobs may wait for a person for a day; they are not in this index.
DROP INDEX jobs_running;
CREATE INDEX jobs_leased ON jobs (agent_id, id) WHERE status = 'running' AND ready_at IS NULL AND waiting_for IS NULL;
-- GET /v1/jobs?waiting=true and the agents' waiting counts.
CREATE INDEX jobs_waiting ON jobs (tenant_id, id) WHERE waiting_for IS NOT NULL;

CREATE TABLE input_requests (
  id             TEXT PRIMARY KEY,
  tenant_id      TEXT NOT NULL,
  job_id         TEXT NOT NULL,
  root_job_id    TEXT NOT NULL,
  kind           TEXT NOT NULL,
  prompt         TEXT NOT NULL,
  input_schema   TEXT,
  tool           TEXT,
  tool_input     TEXT,
  status         TEXT NOT NULL,
  requested_at   INTEGER NOT NULL,
  expires_at     INTEGER,
  answered_at    INTEGER,
  input          TEXT,
  -- private to the server: what the model runtime needs to resume its conversation after the answer.
  runtime_state  TEXT
);
CREATE INDEX input_requests_job ON input_requests (job_id, id);
CREATE INDEX input_requests_root ON input_requests (root_job_id, id);

-- Numbered per job under the job's row lock, so they are handed out in commit order.
CREATE TABLE job_messages (
  job_id      TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  id          TEXT NOT NULL,
  tenant_id   TEXT NOT NULL,
  content     TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX job_messages_id ON job_messages (id);

CREATE TABLE artifacts (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL,
  job_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  media_type  TEXT NOT NULL,
  size        INTEGER NOT NULL,
  content     BLOB NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX artifacts_job ON artifacts (job_id, id);

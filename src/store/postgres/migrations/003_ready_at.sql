-- When a claim may hand a job out: set while a job waits for a worker, null while a worker holds it, while it
-- waits for something else, and once it ended. Claims read one index whatever made the job ready (a dispatch,
-- a retry, and later a delay, an answered question), in the order the jobs became ready.
ALTER TABLE jobs ADD COLUMN ready_at BIGINT;
UPDATE jobs SET ready_at = created_at WHERE status = 'queued';
DROP INDEX jobs_queued;
CREATE INDEX jobs_ready ON jobs (agent_id, ready_at, id) WHERE ready_at IS NOT NULL;

-- agentjobs schema, PostgreSQL: the same tables, columns and indexes as sqlite/migrations/001_initial.sql.
-- Times are BIGINT milliseconds since the Unix epoch (taken from the database clock); JSON is stored as TEXT,
-- exactly as it goes on the wire, so that reads splice it into responses without re-serialising (jsonb would
-- reorder keys and normalise numbers). Identifiers use the "C" collation: ids are compared and ordered byte
-- by byte (cursors, oldest-first claims), as on SQLite, whatever the database's default collation is.

CREATE TABLE tenants (
  id                              TEXT COLLATE "C" PRIMARY KEY,
  name                            TEXT NOT NULL UNIQUE,
  webhook_secret                  TEXT NOT NULL,
  webhook_secret_previous         TEXT,
  webhook_secret_previous_until   BIGINT,
  created_at                      BIGINT NOT NULL
);

CREATE TABLE api_keys (
  id          TEXT COLLATE "C" PRIMARY KEY,
  tenant_id   TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
  token_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
  hint        TEXT NOT NULL,
  name        TEXT,
  created_at  BIGINT NOT NULL,
  revoked_at  BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE agents (
  id               TEXT COLLATE "C" PRIMARY KEY,
  tenant_id        TEXT COLLATE "C" NOT NULL REFERENCES tenants(id),
  name             TEXT NOT NULL,
  description      TEXT,
  runtime          TEXT NOT NULL,
  max_concurrency  INTEGER,
  last_seen_at     BIGINT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  deleted_at       BIGINT
);
CREATE INDEX agents_tenant ON agents (tenant_id, id);

CREATE TABLE worker_tokens (
  id          TEXT COLLATE "C" PRIMARY KEY,
  agent_id    TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  tenant_id   TEXT COLLATE "C" NOT NULL,
  token_hash  TEXT COLLATE "C" NOT NULL UNIQUE,
  hint        TEXT NOT NULL,
  created_at  BIGINT NOT NULL,
  revoked_at  BIGINT
);
CREATE INDEX worker_tokens_agent ON worker_tokens (agent_id, id);

CREATE TABLE workers (
  agent_id      TEXT COLLATE "C" NOT NULL,
  worker_id     TEXT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  PRIMARY KEY (agent_id, worker_id)
);

CREATE TABLE jobs (
  id                   TEXT COLLATE "C" PRIMARY KEY,
  tenant_id            TEXT COLLATE "C" NOT NULL,
  agent_id             TEXT COLLATE "C" NOT NULL REFERENCES agents(id),
  status               TEXT NOT NULL,
  brief                TEXT NOT NULL,
  metadata             TEXT NOT NULL,
  -- observers of this job and of every ancestor, each tagged with the job it was registered on (secrets
  -- included): a transition finds every webhook it owes in its own row.
  observers            TEXT NOT NULL,
  output_schema        TEXT,
  parent_job_id        TEXT COLLATE "C" REFERENCES jobs(id),
  root_job_id          TEXT COLLATE "C" NOT NULL,
  -- the ids of every ancestor, root first, comma-separated ('' for a root): token roll-ups and budget checks
  -- reach the whole chain without walking it.
  path                 TEXT COLLATE "C" NOT NULL,
  depth                INTEGER NOT NULL,
  on_parent_end        TEXT NOT NULL,
  result               TEXT,
  error                TEXT,
  progress             TEXT,
  tokens_self          BIGINT NOT NULL DEFAULT 0,
  tokens_total         BIGINT NOT NULL DEFAULT 0,
  token_budget         BIGINT,
  attempt              INTEGER NOT NULL,
  max_attempts         INTEGER NOT NULL,
  lease_token          TEXT,
  lease_expires_at     BIGINT,
  lease_ms             BIGINT,
  worker_id            TEXT,
  deadline_at          BIGINT,
  queue_deadline_at    BIGINT,
  max_duration_ms      BIGINT,
  -- the earliest moment a timer (deadline, queue deadline, lease expiry) fires for this job; null when none.
  -- Any server process may take a due row (FOR UPDATE SKIP LOCKED); exactly one acts on it.
  timer_at             BIGINT,
  depth_limit          INTEGER NOT NULL,
  subjob_limit         INTEGER NOT NULL,
  child_count          INTEGER NOT NULL DEFAULT 0,
  cancel_requested_at  BIGINT,
  cancel_code          TEXT,
  transition_seq       INTEGER NOT NULL DEFAULT 0,
  -- on a root job: the last sequence number given to an event of its tree (the row lock orders them).
  event_seq            BIGINT NOT NULL DEFAULT 0,
  created_at           BIGINT NOT NULL,
  started_at           BIGINT,
  completed_at         BIGINT,
  updated_at           BIGINT NOT NULL
);
-- Lists filtered by status walk this index newest first: an index per status would be updated by every
-- transition of every job, to speed up a listing.
CREATE INDEX jobs_tenant ON jobs (tenant_id, id);
CREATE INDEX jobs_agent ON jobs (agent_id, id);
CREATE INDEX jobs_queued ON jobs (agent_id, id) WHERE status = 'queued';
-- running jobs by agent: max_concurrency and the agent's counts are counted here (no counter on the agent's
-- row, which every start and end of a job would have to write).
CREATE INDEX jobs_running ON jobs (agent_id, id) WHERE status = 'running';
CREATE INDEX jobs_parent ON jobs (parent_job_id, id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX jobs_root ON jobs (root_job_id, id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX jobs_timer ON jobs (timer_at) WHERE timer_at IS NOT NULL;

-- Clustered by tree and sequence in SQLite (WITHOUT ROWID); here the primary key is the same pair, so a stream
-- reads a tree's events in order from one range of one b-tree.
CREATE TABLE events (
  root_job_id  TEXT COLLATE "C" NOT NULL,
  sequence     BIGINT NOT NULL,
  id           TEXT COLLATE "C" NOT NULL,
  tenant_id    TEXT COLLATE "C" NOT NULL,
  job_id       TEXT COLLATE "C" NOT NULL,
  type         TEXT NOT NULL,
  data         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (root_job_id, sequence)
);
CREATE UNIQUE INDEX events_id ON events (id);

CREATE TABLE webhook_messages (
  id                TEXT COLLATE "C" PRIMARY KEY,
  tenant_id         TEXT COLLATE "C" NOT NULL,
  job_id            TEXT COLLATE "C" NOT NULL,
  observer_job_id   TEXT COLLATE "C" NOT NULL,
  url               TEXT NOT NULL,
  -- scheme://host:port of the url: deliveries are limited per endpoint, so a slow one cannot hold up others.
  endpoint          TEXT NOT NULL,
  -- the observer's own secret, or null to sign with the tenant's secret(s) at send time.
  secret            TEXT,
  type              TEXT NOT NULL,
  sequence          INTEGER NOT NULL,
  body              TEXT NOT NULL,
  status            TEXT NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  -- when the next attempt is due; a claim moves it past the attempt's timeout (a visibility timeout), so a
  -- message whose sender died is due again then — and any other server process sends it.
  next_attempt_at   BIGINT,
  created_at        BIGINT NOT NULL,
  delivered_at      BIGINT
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_messages_job ON webhook_messages (job_id, id);
CREATE INDEX webhook_messages_observer ON webhook_messages (observer_job_id, id);

CREATE TABLE delivery_attempts (
  id            TEXT COLLATE "C" PRIMARY KEY,
  message_id    TEXT COLLATE "C" NOT NULL,
  attempted_at  BIGINT NOT NULL,
  status_code   INTEGER,
  latency_ms    INTEGER NOT NULL,
  outcome       TEXT NOT NULL,
  error         TEXT
);
CREATE INDEX delivery_attempts_message ON delivery_attempts (message_id, id);

CREATE TABLE idempotency_keys (
  tenant_id    TEXT COLLATE "C" NOT NULL,
  scope        TEXT COLLATE "C" NOT NULL,
  key          TEXT COLLATE "C" NOT NULL,
  fingerprint  TEXT NOT NULL,
  status_code  INTEGER,
  response     TEXT,
  created_at   BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- observers whose endpoint answered 410 Gone: nothing more is sent to them.
CREATE TABLE disabled_observers (
  observer_job_id  TEXT COLLATE "C" NOT NULL,
  url              TEXT NOT NULL,
  disabled_at      BIGINT NOT NULL,
  PRIMARY KEY (observer_job_id, url)
);

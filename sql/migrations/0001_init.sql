-- 0001_init: aob's system of record on Postgres.
-- Workflows by content id, tags and every move of them, runs with their node states, the
-- materialized document and IR of each run version, events numbered per run, patches, and the
-- ledger of node completions (one row per run, node and activation: committed exactly once).
CREATE TABLE workflows (
  id text PRIMARY KEY,
  name text NOT NULL,
  document jsonb NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX workflows_by_name ON workflows (name, created_at DESC);

CREATE TABLE tags (
  name text PRIMARY KEY,
  workflow_id text NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE tag_moves (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  workflow_id text NOT NULL,
  previous_id text,
  moved_at timestamptz NOT NULL
);
CREATE INDEX tag_moves_by_name ON tag_moves (name, id DESC);

CREATE TABLE runs (
  id text PRIMARY KEY,
  workflow_id text NOT NULL,
  status text NOT NULL,
  idempotency_key text UNIQUE,
  version integer NOT NULL,
  last_seq integer NOT NULL,
  ir_version integer NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- set while a committed transition's tasks may still be undispatched (see 0002)
  dispatch_pending_at timestamptz,
  -- the rest of the run record (input, output, error, loops, timestamps, ...)
  record jsonb NOT NULL
) WITH (fillfactor = 70); -- room for HOT updates: every transition updates its run's row
CREATE INDEX runs_by_status ON runs (status, id DESC);
CREATE INDEX runs_by_workflow ON runs (workflow_id, id DESC);
CREATE INDEX runs_active ON runs (id) WHERE status NOT IN ('succeeded', 'failed', 'cancelled');
CREATE INDEX runs_dispatch_pending ON runs (dispatch_pending_at) WHERE dispatch_pending_at IS NOT NULL;

CREATE TABLE run_irs (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  ir_version integer NOT NULL,
  document jsonb NOT NULL,
  ir jsonb NOT NULL,
  PRIMARY KEY (run_id, ir_version)
);

CREATE TABLE run_nodes (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  node_id text NOT NULL,
  state jsonb NOT NULL,
  PRIMARY KEY (run_id, node_id)
) WITH (fillfactor = 70);

CREATE TABLE events (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  type text NOT NULL,
  node_id text,
  ts timestamptz NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE node_completions (
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  node_id text NOT NULL,
  iteration integer NOT NULL,
  epoch integer NOT NULL,
  status text NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, node_id, iteration)
);

CREATE TABLE patches (
  id text PRIMARY KEY,
  run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  record jsonb NOT NULL
);
CREATE INDEX patches_by_run ON patches (run_id, id);

-- content-addressed blobs: node outputs over 64 KiB, by `cas:sha256:<hex>`
CREATE TABLE blobs (
  ref text PRIMARY KEY,
  data text NOT NULL
);

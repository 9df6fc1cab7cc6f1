-- 0001_init: the embedded store's schema (bun:sqlite).
-- Runs and patches keep their full record as JSON; the columns beside it are the ones queried.
CREATE TABLE workflows (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX workflows_by_name ON workflows (name, created_at);

CREATE TABLE tags (
  name TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE tag_moves (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  previous_id TEXT,
  moved_at TEXT NOT NULL
);
CREATE INDEX tag_moves_by_name ON tag_moves (name, id);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  workflow_id TEXT NOT NULL,
  status TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  -- set (epoch ms) while a committed transition's tasks may still be undispatched
  dispatch_pending_at INTEGER,
  record TEXT NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_workflow ON runs (workflow_id, id);

-- the materialized document and IR of each run version (immutable; the run record holds neither)
CREATE TABLE run_irs (
  run_id TEXT NOT NULL,
  ir_version INTEGER NOT NULL,
  document TEXT NOT NULL,
  ir TEXT NOT NULL,
  PRIMARY KEY (run_id, ir_version)
) WITHOUT ROWID;

CREATE TABLE run_nodes (
  run_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (run_id, node_id)
) WITHOUT ROWID;

CREATE TABLE events (
  run_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  node_id TEXT,
  ts TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

CREATE TABLE patches (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX patches_by_run ON patches (run_id, id);

-- content-addressed blobs: node outputs over 64 KiB, by `cas:sha256:<hex>`
CREATE TABLE blobs (
  ref TEXT PRIMARY KEY,
  data TEXT NOT NULL
) WITHOUT ROWID;

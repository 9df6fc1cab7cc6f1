-- 0004_approvals: approvals (SPEC §4.1), written by the run transitions that create, vote on
-- and resolve them. `seq` orders them by creation (ids follow from the node activation, not
-- the clock); `timeout_at` (epoch ms) of pending ones is what the timeout sweep reads.
CREATE TABLE approvals (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  run_id TEXT NOT NULL,
  status TEXT NOT NULL,
  timeout_at INTEGER,
  record TEXT NOT NULL
);
CREATE INDEX approvals_by_run ON approvals (run_id, seq);
CREATE INDEX approvals_by_status ON approvals (status, seq);
CREATE INDEX approvals_due ON approvals (timeout_at) WHERE status = 'pending' AND timeout_at IS NOT NULL;

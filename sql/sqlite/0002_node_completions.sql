-- 0002_node_completions: the completion ledger, as in Postgres. One row per node activation
-- (run, node, iteration); a transition that would record one twice is refused whole, so a
-- completion commits exactly once whatever the bus delivers.
CREATE TABLE node_completions (
  run_id TEXT NOT NULL,
  node_id TEXT NOT NULL,
  iteration INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  status TEXT NOT NULL,
  committed_at TEXT NOT NULL,
  PRIMARY KEY (run_id, node_id, iteration)
) WITHOUT ROWID;

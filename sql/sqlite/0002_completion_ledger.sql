-- 0002_completion_ledger: the completion ledger, as an index. A node_completed or node_failed
-- event carries the activation (iteration) it completes; one event per (run, node, iteration)
-- at most, so a transition that would record a completion twice is refused whole and a
-- completion commits exactly once whatever the bus delivers. (No separate table: the check
-- costs no extra statement per commit.)
ALTER TABLE events ADD COLUMN completes_iteration INTEGER;
CREATE UNIQUE INDEX events_one_completion ON events (run_id, node_id, completes_iteration)
  WHERE completes_iteration IS NOT NULL;

-- 0006_unchecked_run_rows: the foreign keys from a run's rows (IR versions, node states, events,
-- completions, patches) to runs go. Each such row is written by aob_create_run(s) or
-- aob_commit_transitions for a run that the same transaction has just inserted, or
-- version-checked and updated (so locked): the key check re-proved what was known, at the price
-- of one query per inserted row (about 4.5 per transition, a large share of Postgres's CPU per
-- transition in `bun run bench chain10 --backend redis-pg`). Runs are never deleted today; the
-- retention that will delete them deletes their rows with them.
ALTER TABLE run_irs DROP CONSTRAINT run_irs_run_id_fkey;
ALTER TABLE run_nodes DROP CONSTRAINT run_nodes_run_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_run_id_fkey;
ALTER TABLE node_completions DROP CONSTRAINT node_completions_run_id_fkey;
ALTER TABLE patches DROP CONSTRAINT patches_run_id_fkey;

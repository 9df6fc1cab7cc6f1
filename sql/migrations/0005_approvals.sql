-- 0005_approvals: approvals (SPEC §4.1), written by the run transitions that create, vote on
-- and resolve them: aob_commit_transitions as in 0004, plus an item's `approvals` (records to
-- insert or update) in the same transaction. `seq` orders them by creation (ids follow from
-- the node activation, not the clock); the partial index serves the timeout sweep.
CREATE TABLE approvals (
  seq bigserial,
  id text PRIMARY KEY,
  run_id text NOT NULL,
  status text NOT NULL,
  timeout_at timestamptz,
  record jsonb NOT NULL
);
CREATE UNIQUE INDEX approvals_seq ON approvals (seq);
CREATE INDEX approvals_by_run ON approvals (run_id, seq);
CREATE INDEX approvals_by_status ON approvals (status, seq DESC);
CREATE INDEX approvals_due ON approvals (timeout_at) WHERE status = 'pending' AND timeout_at IS NOT NULL;

CREATE OR REPLACE FUNCTION aob_commit_transitions(p_items jsonb) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
  it jsonb;
  v_run text;
  v_statuses text[] := '{}';
BEGIN
  FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_run := it ->> 'run_id';
    UPDATE runs
       SET version = version + 1,
           status = it ->> 'status',
           record = coalesce(nullif(it -> 'record', 'null'::jsonb), record),
           ir_version = (it ->> 'ir_version')::integer,
           updated_at = now(),
           dispatch_pending_at = CASE WHEN (it ->> 'dispatch_pending')::boolean THEN now() ELSE dispatch_pending_at END,
           last_seq = last_seq + jsonb_array_length(it -> 'events')
     WHERE id = v_run AND version = (it ->> 'expected_version')::integer;
    IF NOT FOUND THEN
      v_statuses := v_statuses || CASE WHEN EXISTS (SELECT 1 FROM runs WHERE id = v_run) THEN 'conflict' ELSE 'missing' END;
      CONTINUE;
    END IF;

    IF it -> 'ir' <> 'null'::jsonb THEN
      INSERT INTO run_irs (run_id, ir_version, document, ir)
      VALUES (v_run, (it ->> 'ir_version')::integer, it -> 'document', it -> 'ir')
      ON CONFLICT (run_id, ir_version) DO NOTHING;
    END IF;

    IF it -> 'nodes' <> '{}'::jsonb THEN
      INSERT INTO run_nodes (run_id, node_id, state)
      SELECT v_run, n.key, n.value FROM jsonb_each(it -> 'nodes') n
      ON CONFLICT (run_id, node_id) DO UPDATE SET state = EXCLUDED.state;
    END IF;

    IF jsonb_array_length(it -> 'removed') > 0 THEN
      DELETE FROM run_nodes
       WHERE run_id = v_run AND node_id IN (SELECT jsonb_array_elements_text(it -> 'removed'));
    END IF;

    IF jsonb_array_length(it -> 'events') > 0 THEN
      INSERT INTO events (run_id, seq, type, node_id, ts, data)
      SELECT v_run, (e ->> 'seq')::integer, e ->> 'type', e ->> 'node_id', (e ->> 'ts')::timestamptz, e -> 'data'
        FROM jsonb_array_elements(it -> 'events') e;
    END IF;

    IF jsonb_array_length(it -> 'completions') > 0 THEN
      INSERT INTO node_completions (run_id, node_id, iteration, epoch, status)
      SELECT v_run, c ->> 'node_id', (c ->> 'iteration')::integer, (c ->> 'epoch')::integer, c ->> 'status'
        FROM jsonb_array_elements(it -> 'completions') c;
    END IF;

    IF it -> 'patch' <> 'null'::jsonb THEN
      INSERT INTO patches (id, run_id, record) VALUES (it -> 'patch' ->> 'id', v_run, it -> 'patch')
      ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record;
    END IF;

    IF jsonb_array_length(coalesce(it -> 'approvals', '[]'::jsonb)) > 0 THEN
      INSERT INTO approvals (id, run_id, status, timeout_at, record)
      SELECT a ->> 'id', v_run, a ->> 'status', (a ->> 'timeout_at')::timestamptz, a
        FROM jsonb_array_elements(it -> 'approvals') a
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, record = EXCLUDED.record;
    END IF;

    v_statuses := v_statuses || 'ok'::text;
  END LOOP;
  RETURN v_statuses;
END
$$;

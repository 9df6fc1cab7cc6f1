-- 0002_commit_transitions: run transitions, many in one round trip and one transaction, and
-- run creation in one call.
-- p_items is a JSON array; each item applies only if its run is still at the item's expected
-- version, else it is skipped and reported ('conflict', or 'missing' for no such run). A node
-- completion already in the ledger raises unique_violation for the whole call: a completion is
-- committed exactly once. p_record NULL keeps the run's record (most transitions change node
-- states only). Returns one status per item, in order: 'ok', 'conflict' or 'missing'.
--
-- item: {run_id, expected_version, status, record, ir_version, document, ir, nodes, removed,
--        events, completions, patch, dispatch_pending}
CREATE FUNCTION aob_commit_transitions(p_items jsonb) RETURNS text[]
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

    INSERT INTO run_nodes (run_id, node_id, state)
    SELECT v_run, n.key, n.value FROM jsonb_each(it -> 'nodes') n
    ON CONFLICT (run_id, node_id) DO UPDATE SET state = EXCLUDED.state;

    DELETE FROM run_nodes
     WHERE run_id = v_run AND node_id IN (SELECT jsonb_array_elements_text(it -> 'removed'));

    INSERT INTO events (run_id, seq, type, node_id, ts, data)
    SELECT v_run, (e ->> 'seq')::integer, e ->> 'type', e ->> 'node_id', (e ->> 'ts')::timestamptz, e -> 'data'
      FROM jsonb_array_elements(it -> 'events') e;

    INSERT INTO node_completions (run_id, node_id, iteration, epoch, status)
    SELECT v_run, c ->> 'node_id', (c ->> 'iteration')::integer, (c ->> 'epoch')::integer, c ->> 'status'
      FROM jsonb_array_elements(it -> 'completions') c;

    IF it -> 'patch' <> 'null'::jsonb THEN
      INSERT INTO patches (id, run_id, record) VALUES (it -> 'patch' ->> 'id', v_run, it -> 'patch')
      ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record;
    END IF;

    v_statuses := v_statuses || 'ok'::text;
  END LOOP;
  RETURN v_statuses;
END
$$;

-- A new run in one call: its row, its first document and IR, its node states, then its first
-- transition. With an idempotency key already used, creates nothing and returns the id of the
-- run that has it; otherwise returns NULL.
CREATE FUNCTION aob_create_run(p_run jsonb, p_document jsonb, p_ir jsonb, p_nodes jsonb, p_first jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  v_existing text;
  v_status text[];
BEGIN
  INSERT INTO runs (id, workflow_id, status, idempotency_key, version, last_seq, ir_version, record)
  VALUES (p_run ->> 'id', p_run ->> 'workflow_id', p_run ->> 'status', p_run ->> 'idempotency_key',
          (p_run ->> 'version')::integer, (p_run ->> 'last_seq')::integer, (p_run ->> 'ir_version')::integer, p_run -> 'record')
  ON CONFLICT (idempotency_key) DO NOTHING;
  IF NOT FOUND THEN
    SELECT id INTO v_existing FROM runs WHERE idempotency_key = p_run ->> 'idempotency_key';
    RETURN v_existing;
  END IF;
  INSERT INTO run_irs (run_id, ir_version, document, ir) VALUES (p_run ->> 'id', (p_run ->> 'ir_version')::integer, p_document, p_ir);
  INSERT INTO run_nodes (run_id, node_id, state) SELECT p_run ->> 'id', n.key, n.value FROM jsonb_each(p_nodes) n;
  v_status := aob_commit_transitions(jsonb_build_array(p_first));
  IF v_status[1] <> 'ok' THEN
    RAISE EXCEPTION 'first transition of run % not applied: %', p_run ->> 'id', v_status[1];
  END IF;
  RETURN NULL;
END
$$;

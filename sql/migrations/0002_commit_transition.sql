-- 0002_commit_transition: one run transition in one round trip and one transaction.
-- Applies the transition only if the run is still at p_expected_version; raises AOB01 (version
-- conflict) or AOB02 (no such run) otherwise, writing nothing. A node completion already in the
-- ledger raises unique_violation: a completion is committed exactly once.
CREATE FUNCTION aob_commit_transition(
  p_run_id text,
  p_expected_version integer,
  p_status text,
  p_record jsonb,
  p_ir_version integer,
  p_document jsonb,
  p_ir jsonb,
  p_nodes jsonb,
  p_removed text[],
  p_events jsonb,
  p_completions jsonb,
  p_patch jsonb
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_version integer;
BEGIN
  UPDATE runs
     SET version = version + 1,
         status = p_status,
         record = p_record,
         ir_version = p_ir_version,
         last_seq = last_seq + jsonb_array_length(p_events)
   WHERE id = p_run_id AND version = p_expected_version
  RETURNING version INTO v_version;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM runs WHERE id = p_run_id) THEN
      RAISE EXCEPTION 'run % is not at version %', p_run_id, p_expected_version USING ERRCODE = 'AOB01';
    END IF;
    RAISE EXCEPTION 'run % not found', p_run_id USING ERRCODE = 'AOB02';
  END IF;

  IF p_ir IS NOT NULL THEN
    INSERT INTO run_irs (run_id, ir_version, document, ir)
    VALUES (p_run_id, p_ir_version, p_document, p_ir)
    ON CONFLICT (run_id, ir_version) DO NOTHING;
  END IF;

  INSERT INTO run_nodes (run_id, node_id, state)
  SELECT p_run_id, n.key, n.value FROM jsonb_each(p_nodes) n
  ON CONFLICT (run_id, node_id) DO UPDATE SET state = EXCLUDED.state;

  IF cardinality(p_removed) > 0 THEN
    DELETE FROM run_nodes WHERE run_id = p_run_id AND node_id = ANY (p_removed);
  END IF;

  INSERT INTO events (run_id, seq, type, node_id, ts, data)
  SELECT p_run_id, (e ->> 'seq')::integer, e ->> 'type', e ->> 'node_id', (e ->> 'ts')::timestamptz, e -> 'data'
    FROM jsonb_array_elements(p_events) e;

  INSERT INTO node_completions (run_id, node_id, iteration, epoch, status)
  SELECT p_run_id, c ->> 'node_id', (c ->> 'iteration')::integer, (c ->> 'epoch')::integer, c ->> 'status'
    FROM jsonb_array_elements(p_completions) c;

  IF p_patch IS NOT NULL THEN
    INSERT INTO patches (id, run_id, record) VALUES (p_patch ->> 'id', p_run_id, p_patch)
    ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record;
  END IF;

  RETURN v_version;
END
$$;

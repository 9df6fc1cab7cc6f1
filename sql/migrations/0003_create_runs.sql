-- 0003_create_runs: many new runs in one round trip and one transaction (concurrent POST /runs
-- go together, as concurrent transitions do). p_items is a JSON array of
-- {run, document, ir, nodes, first}, each created as by aob_create_run. Returns a JSON array
-- with one entry per item, in order: null when created, else the id of the run that already
-- had its idempotency key. An item that fails fails the whole call (the caller then creates
-- the runs one by one, so that each gets its own error).
CREATE FUNCTION aob_create_runs(p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  it jsonb;
  v_out jsonb := '[]'::jsonb;
BEGIN
  FOR it IN SELECT value FROM jsonb_array_elements(p_items) LOOP
    v_out := v_out || jsonb_build_array(to_jsonb(aob_create_run(it -> 'run', it -> 'document', it -> 'ir', it -> 'nodes', it -> 'first')));
  END LOOP;
  RETURN v_out;
END
$$;

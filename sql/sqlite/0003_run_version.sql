-- 0003_run_version: the run's version as a column, so that a commit checks it in its own UPDATE
-- (WHERE version = expected) instead of reading and parsing the run record first.
ALTER TABLE runs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET version = json_extract(record, '$.version');

-- 0006_apis: registered OpenAPI documents (SPEC §4.2), by name, dereferenced.
CREATE TABLE apis (
  name TEXT PRIMARY KEY,
  record TEXT NOT NULL
) WITHOUT ROWID;

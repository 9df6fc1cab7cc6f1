-- 0008_apis: registered OpenAPI documents (SPEC §4.2), by name, dereferenced.
CREATE TABLE apis (
  name text PRIMARY KEY,
  record jsonb NOT NULL
);

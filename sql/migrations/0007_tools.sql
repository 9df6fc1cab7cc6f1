-- 0007_tools: composite tools (SPEC §4.2), every version kept; the newest is the tool.
CREATE TABLE tools (
  name text NOT NULL,
  version integer NOT NULL,
  record jsonb NOT NULL,
  PRIMARY KEY (name, version)
);

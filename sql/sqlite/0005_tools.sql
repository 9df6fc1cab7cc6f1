-- 0005_tools: composite tools (SPEC §4.2), every version kept; the newest is the tool.
CREATE TABLE tools (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (name, version)
) WITHOUT ROWID;

/**
 * Postgres schema versions, embedded as text so compiled binaries carry them.
 * Append-only: never edit or reorder an entry.
 * @module
 */
import type { Sql } from 'postgres'
import m0001 from '../../../sql/migrations/0001_init.sql' with { type: 'text' }
import m0002 from '../../../sql/migrations/0002_commit_transitions.sql' with { type: 'text' }
import m0003 from '../../../sql/migrations/0003_create_runs.sql' with { type: 'text' }
import m0004 from '../../../sql/migrations/0004_lean_commits.sql' with { type: 'text' }
import m0005 from '../../../sql/migrations/0005_approvals.sql' with { type: 'text' }
import m0006 from '../../../sql/migrations/0006_unchecked_run_rows.sql' with { type: 'text' }
import m0007 from '../../../sql/migrations/0007_tools.sql' with { type: 'text' }
import m0008 from '../../../sql/migrations/0008_apis.sql' with { type: 'text' }

export const MIGRATIONS = [
  { version: 1, name: '0001_init', sql: m0001 },
  { version: 2, name: '0002_commit_transitions', sql: m0002 },
  { version: 3, name: '0003_create_runs', sql: m0003 },
  { version: 4, name: '0004_lean_commits', sql: m0004 },
  { version: 5, name: '0005_approvals', sql: m0005 },
  { version: 6, name: '0006_unchecked_run_rows', sql: m0006 },
  { version: 7, name: '0007_tools', sql: m0007 },
  { version: 8, name: '0008_apis', sql: m0008 },
] as const

/** Any 64-bit number shared by every aob process: serialises concurrent migrators. */
export const MIGRATION_LOCK_KEY = 7_240_113_775_001

/**
 * Applies every missing version in one transaction under an advisory lock. Returns the names
 * applied. Tables land in the connection's search_path (tests give each file a schema).
 */
export async function migrate(sql: Sql): Promise<string[]> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`
    const done = new Set(
      (await tx<{ version: number }[]>`SELECT version FROM schema_migrations`).map((r) => r.version)
    )
    const applied: string[] = []
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue
      await tx.unsafe(m.sql)
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`
      applied.push(m.name)
    }
    return applied
  })
}

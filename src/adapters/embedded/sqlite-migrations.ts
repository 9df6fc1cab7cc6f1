/** The embedded store's schema versions. Append-only: never edit or reorder an entry. @module */
import type { Database } from 'bun:sqlite'
import m0001 from '../../../sql/sqlite/0001_init.sql' with { type: 'text' }
import m0002 from '../../../sql/sqlite/0002_completion_ledger.sql' with { type: 'text' }
import m0003 from '../../../sql/sqlite/0003_run_version.sql' with { type: 'text' }
import m0004 from '../../../sql/sqlite/0004_approvals.sql' with { type: 'text' }
import m0005 from '../../../sql/sqlite/0005_tools.sql' with { type: 'text' }
import m0006 from '../../../sql/sqlite/0006_apis.sql' with { type: 'text' }

export const SQLITE_MIGRATIONS = [
  { version: 1, name: '0001_init', sql: m0001 },
  { version: 2, name: '0002_completion_ledger', sql: m0002 },
  { version: 3, name: '0003_run_version', sql: m0003 },
  { version: 4, name: '0004_approvals', sql: m0004 },
  { version: 5, name: '0005_tools', sql: m0005 },
  { version: 6, name: '0006_apis', sql: m0006 },
] as const

/** Applies missing versions in one transaction (the file lock serialises processes). */
export function migrateSqlite(
  db: Database,
  migrations: readonly { version: number; name: string; sql: string }[] = SQLITE_MIGRATIONS
): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)'
  )
  db.transaction(() => {
    const done = new Set(
      db
        .query<{ version: number }, []>('SELECT version FROM schema_migrations')
        .all()
        .map((r) => r.version)
    )
    for (const m of migrations) {
      if (done.has(m.version)) continue
      db.exec(m.sql)
      db.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString()
      )
    }
  }).immediate()
}

import { expect, test } from 'bun:test'
import { Glob } from 'bun'
import { MIGRATIONS } from '../../src/adapters/postgres/migrations.ts'
import { SQLITE_MIGRATIONS } from '../../src/adapters/embedded/sqlite-migrations.ts'

/**
 * Migrations are append-only: a shipped file never changes (a user's database already ran it).
 * A new migration is a new file, and a new line here.
 */
const SHIPPED: Record<string, string> = {
  'sql/migrations/0001_init.sql': 'cf7638964faf727b',
  'sql/migrations/0002_commit_transitions.sql': 'f7eee123913ba7ee',
  'sql/migrations/0003_create_runs.sql': '6899fb26907b53f6',
  'sql/migrations/0004_lean_commits.sql': 'ee2cab52ce1c9a58',
  'sql/migrations/0005_approvals.sql': '09cf896d6f68e23d',
  'sql/migrations/0006_unchecked_run_rows.sql': 'c2ad684e5a527d05',
  'sql/migrations/0007_tools.sql': '0fc4ed7f10d9c175',
  'sql/migrations/0008_apis.sql': '67eec43e89f5f485',
  'sql/sqlite/0001_init.sql': '8001b25192e889c5',
  'sql/sqlite/0002_completion_ledger.sql': '9b1a808ddf710821',
  'sql/sqlite/0003_run_version.sql': '67cdd8536e26a4d7',
  'sql/sqlite/0004_approvals.sql': '2755a004657b7576',
  'sql/sqlite/0005_tools.sql': 'e9bb11a204d301ba',
  'sql/sqlite/0006_apis.sql': '3454b995af3b56da',
}

test('shipped migration files are unchanged, and every file is listed and embedded in order', async () => {
  const files: string[] = []
  for await (const f of new Glob('sql/{migrations,sqlite}/*.sql').scan('.')) files.push(f)
  expect(files.sort()).toEqual(Object.keys(SHIPPED).sort())
  for (const [file, digest] of Object.entries(SHIPPED)) {
    const actual = new Bun.CryptoHasher('sha256')
      .update(await Bun.file(file).text())
      .digest('hex')
      .slice(0, 16)
    expect({ file, digest: actual }).toEqual({ file, digest })
  }
  expect(MIGRATIONS.map((m) => m.version as number)).toEqual(MIGRATIONS.map((_, i) => i + 1))
  expect(SQLITE_MIGRATIONS.map((m) => m.version as number)).toEqual(
    SQLITE_MIGRATIONS.map((_, i) => i + 1)
  )
  expect(SQLITE_MIGRATIONS.map((m) => `sql/sqlite/${m.name}.sql`)).toEqual(
    files.filter((f) => f.startsWith('sql/sqlite/')).sort()
  )
})

import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SQLITE_MIGRATIONS, migrateSqlite } from '../../src/adapters/embedded/sqlite-migrations.ts'
import { createSqliteStore } from '../../src/adapters/embedded/sqlite-store.ts'
import { newNodeState } from '../../src/engine/draft.ts'
import { runRecord } from '../helpers/fixtures.ts'

test('a database made by the first migration alone (an older aob dev) opens and migrates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aob-migrate-'))
  try {
    const path = join(dir, 'aob.db')
    const old = new Database(path, { create: true, strict: true })
    migrateSqlite(old, SQLITE_MIGRATIONS.slice(0, 1))
    old.exec(
      "INSERT INTO workflows (id, name, document, created_at) VALUES ('wf_00000000000000aa', 'old', '{\"name\":\"old\"}', '2026-01-01T00:00:00.000Z')"
    )
    old.close()

    const store = createSqliteStore(path)
    expect((await store.getWorkflow('wf_00000000000000aa'))?.name).toBe('old')
    const db = new Database(path, { readonly: true })
    expect(
      db
        .query('SELECT version FROM schema_migrations ORDER BY version')
        .all()
        .map((r: any) => r.version)
    ).toEqual(SQLITE_MIGRATIONS.map((m) => m.version))
    db.close()
    // What the later migrations brought works: the completion ledger refuses a second completion.
    const run = runRecord({ name: 'm', nodes: [{ id: 'a', type: 'noop' }] })
    await store.createRun(
      { run, nodes: { a: newNodeState() } },
      {
        run: { status: 'running' },
        nodes: { a: { ...newNodeState(), status: 'running', epoch: 1, iteration: 1 } },
        events: [],
        tasks: [],
      }
    )
    const done = {
      run: {},
      nodes: { a: { ...newNodeState(), status: 'succeeded' as const, epoch: 1, iteration: 1 } },
      events: [{ type: 'node_completed' as const, node_id: 'a', data: { iteration: 1, epoch: 1 } }],
      tasks: [],
    }
    await store.commitTransition((await store.loadRun(run.id))!.run, done)
    expect(
      await store.commitTransition((await store.loadRun(run.id))!.run, done).catch((e) => e.code)
    ).toBe('COMPLETION_RECORDED')
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

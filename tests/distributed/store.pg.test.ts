import { expect, test } from 'bun:test'
import postgres from 'postgres'
import { migrate, MIGRATIONS } from '../../src/adapters/postgres/migrations.ts'
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.ts'
import { storeContract } from '../contract/store.contract.ts'
import { distributedEnv } from '../helpers/kernel.ts'

async function freshStore() {
  const env = await distributedEnv()
  const store = createPostgresStore(env.AOB_DATABASE_URL, { schema: env.AOB_DATABASE_SCHEMA })
  await migrate(store.sql)
  return store
}

storeContract('postgres', freshStore)

test('migrations: concurrent migrators apply each version once, in one transaction each', async () => {
  const env = await distributedEnv()
  const stores = Array.from({ length: 4 }, () => createPostgresStore(env.AOB_DATABASE_URL, { schema: env.AOB_DATABASE_SCHEMA }))
  const applied = await Promise.all(stores.map((s) => migrate(s.sql)))
  expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort())
  const sql = postgres(env.AOB_DATABASE_URL, { onnotice: () => {}, connection: { search_path: env.AOB_DATABASE_SCHEMA } })
  const rows = await sql`SELECT version, name FROM schema_migrations ORDER BY version`
  expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name))
  expect(await migrate(stores[0].sql)).toEqual([])
  await sql.end()
  await Promise.all(stores.map((s) => s.close()))
})

test('a node completion is committed exactly once (unique per run, node and activation)', async () => {
  const store = await freshStore()
  const { newNodeState } = await import('../../src/engine/draft.ts')
  const { compileWorkflow } = await import('../../src/model/ir.ts')
  const { newRunId } = await import('../../src/ids.ts')
  const doc = { name: 'x', nodes: [{ id: 'a', type: 'noop' }] } as any
  const now = new Date().toISOString()
  const run = { id: newRunId(), workflow_id: 'wf_0000000000000001', status: 'queued', input: null, output: null, error: null, document: doc, ir: compileWorkflow(doc), ir_version: 1, loops: {}, pending_patches: 0, version: 0, last_seq: 0, idempotency_key: null, replay_of: null, trace_id: 't', created_at: now, updated_at: now, finished_at: null } as any
  await store.createRun({ run, nodes: { a: newNodeState() } }, { run: { status: 'running' }, nodes: { a: { ...newNodeState(), status: 'running', epoch: 1, iteration: 1 } }, events: [], tasks: [] })
  const done = { run: {}, nodes: { a: { ...newNodeState(), status: 'succeeded' as const, epoch: 1, iteration: 1 } }, events: [{ type: 'node_completed' as const, node_id: 'a', data: { iteration: 1, epoch: 1 } }], tasks: [] }
  await store.commitTransition((await store.loadRun(run.id))!.run, done)
  // A second commit of the same activation's completion, even at the current version, is refused.
  const again = await store.commitTransition((await store.loadRun(run.id))!.run, done).then(() => 'committed', (e) => String(e.message))
  expect(again).toContain('node_completions')
  const [{ count }] = await store.sql`SELECT count(*)::int AS count FROM node_completions WHERE run_id = ${run.id}`
  expect(count).toBe(1)
  expect((await store.readEvents(run.id, 0, 10)).filter((e) => e.type === 'node_completed')).toHaveLength(1)
  await store.close()
})

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
  const stores = Array.from({ length: 4 }, () =>
    createPostgresStore(env.AOB_DATABASE_URL, { schema: env.AOB_DATABASE_SCHEMA })
  )
  const applied = await Promise.all(stores.map((s) => migrate(s.sql)))
  expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.name).sort())
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  const rows = await sql`SELECT version, name FROM schema_migrations ORDER BY version`
  expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name))
  expect(await migrate(stores[0].sql)).toEqual([])
  await sql.end()
  await Promise.all(stores.map((s) => s.close()))
})

/** `aob migrate`: applies missing Postgres migrations (one transaction, advisory lock). */
import { defineCommand } from 'citty'
import { migrate } from '../../src/adapters/postgres/migrations.ts'
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.ts'
import { ConfigError, parseConfig } from '../../src/config.ts'
import { CliError } from '../errors.ts'

export default defineCommand({
  meta: { name: 'migrate', description: 'Apply the Postgres schema migrations (AOB_DATABASE_URL)' },
  async run() {
    let config
    try {
      config = parseConfig(process.env)
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message)
      throw e
    }
    if (!config.databaseUrl) throw new CliError('AOB_DATABASE_URL must be set')
    const store = createPostgresStore(config.databaseUrl, { schema: config.databaseSchema, max: 1 })
    try {
      const applied = await migrate(store.sql)
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'up to date')
    } catch (e) {
      throw new CliError(`migration failed: ${(e as Error).message}`)
    } finally {
      await store.close()
    }
  },
})

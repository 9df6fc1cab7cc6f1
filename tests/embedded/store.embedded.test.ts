import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'bun:test'
import { createSqliteStore } from '../../src/adapters/embedded/sqlite-store.ts'
import { storeContract } from '../contract/store.contract.ts'

storeContract('sqlite :memory:', async () => createSqliteStore(':memory:'))
storeContract('sqlite file', async () =>
  createSqliteStore(join(mkdtempSync(join(tmpdir(), 'aob-store-')), 'aob.db'))
)

test('a file store keeps its state across reopening', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'aob-reopen-')), 'aob.db')
  const first = createSqliteStore(path)
  await first.putWorkflow({
    id: 'wf_00000000000000aa',
    name: 'kept',
    document: { x: 1 },
    created_at: new Date().toISOString(),
  })
  await first.close()
  const second = createSqliteStore(path)
  expect((await second.getWorkflow('wf_00000000000000aa'))?.document).toEqual({ x: 1 })
  await second.close()
})

import { expect, test } from 'bun:test'
import { createMemoryBus } from '../../src/adapters/embedded/memory-bus.ts'
import { createSessions } from '../../src/ui/session.ts'

test('a UI session opens only with its cookie id; what the bus keeps holds no usable token', async () => {
  const bus = createMemoryBus()
  const kept = new Map<string, string>()
  const spy = {
    putState: async (run: string, key: string, value: string, ttl: number) => {
      kept.set(key, value)
      await bus.putState(run, key, value, ttl)
    },
    getState: (run: string, key: string) => bus.getState(run, key),
  }
  const sessions = createSessions(spy)
  const token = 'operator-token-secret-0001'
  const { id, session } = await sessions.create(token)
  expect(session.token).toBe(token)
  expect((await sessions.get(id))?.token).toBe(token)
  // The bus sees neither the id nor the token.
  const [[key, value]] = [...kept]
  expect(key).not.toContain(id)
  expect(value).not.toContain(token)
  expect(value).not.toContain(id)
  // Another id, or a forged record under this id's key, opens nothing.
  expect(await sessions.get(`${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
  await bus.putState(
    'ui-sessions',
    key,
    JSON.stringify({ ...JSON.parse(value), token: 'AAAA' }),
    60_000
  )
  expect(await sessions.get(id)).toBeNull()
  // Signing out ends it.
  const again = await sessions.create(token)
  await sessions.end(again.id)
  expect(await sessions.get(again.id)).toBeNull()
})

import { expect, test } from 'bun:test'
import Redis from 'ioredis'
import { createRedisBus } from '../../src/adapters/redis/redis-bus.ts'
import { SCRIPTS } from '../../src/adapters/redis/scripts.ts'
import { busContract } from '../contract/bus.contract.ts'
import { testRedisUrl } from '../helpers/services.ts'

busContract('redis', async () =>
  createRedisBus(await testRedisUrl(), { prefix: `t${crypto.randomUUID().slice(0, 8)}:` })
)

test('each Lua script declares the keys it uses: the -N in its name equals its key count and its highest KEYS[n]', async () => {
  const glob = new Bun.Glob('*.lua')
  const files = [...glob.scanSync('src/adapters/redis/lua')]
  expect(files.length).toBe(Object.keys(SCRIPTS).length)
  for (const file of files) {
    const [name, n] = file.replace('.lua', '').split('-')
    const text = await Bun.file(`src/adapters/redis/lua/${file}`).text()
    const highest = Math.max(...[...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])))
    const script = SCRIPTS[name as keyof typeof SCRIPTS]
    expect({ file, keys: script.keys as number, highest }).toEqual({
      file,
      keys: Number(n),
      highest: Number(n),
    })
    expect(text.startsWith('--[[')).toBe(true)
  }
})

test('after FLUSHALL the bus recreates its groups and reports a fresh start exactly once', async () => {
  const url = await testRedisUrl()
  const prefix = `flush${crypto.randomUUID().slice(0, 8)}:`
  const a = createRedisBus(url, { prefix })
  const b = createRedisBus(url, { prefix })
  const first = await Promise.all([a.claimFreshStart(), b.claimFreshStart()])
  expect(first.filter(Boolean)).toHaveLength(1)
  expect(await a.claimFreshStart()).toBe(false)
  await a.publish('t', { n: 1 })
  expect((await a.consume('t', 'g', 'c', { count: 1, blockMs: 100 })).map((d) => d.msg)).toEqual([
    { n: 1 },
  ])
  const admin = new Redis(url)
  const keys = await admin.keys(`${prefix}*`)
  await admin.del(...keys) // FLUSHALL, scoped to this test's keys (other suites share the server)
  admin.disconnect()
  expect(await a.consume('t', 'g', 'c', { count: 1, blockMs: 50 })).toEqual([])
  await a.publish('t', { n: 2 })
  expect((await a.consume('t', 'g', 'c', { count: 1, blockMs: 500 })).map((d) => d.msg)).toEqual([
    { n: 2 },
  ])
  const second = await Promise.all([a.claimFreshStart(), b.claimFreshStart()])
  expect(second.filter(Boolean)).toHaveLength(1)
  await a.close()
  await b.close()
})

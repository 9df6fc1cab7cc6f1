import { expect, test } from 'bun:test'
import Redis from 'ioredis'
import { createRedisBus } from '../../src/adapters/redis/redis-bus.ts'
import { SCRIPTS } from '../../src/adapters/redis/scripts.ts'
import { busContract } from '../contract/bus.contract.ts'
import { startRedis, testRedisUrl } from '../helpers/services.ts'

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

test('delayed messages: on time from the scheduling process, picked up by a consumer when it is gone, and an idle bus runs almost no scripts', async () => {
  const redis = await startRedis()
  try {
    const prefix = `delay${crypto.randomUUID().slice(0, 8)}:`
    const consumer = createRedisBus(redis.url, { prefix, promoteEveryMs: 400 })
    const scheduler = createRedisBus(redis.url, { prefix, promoteEveryMs: 400 })
    await consumer.consume('t', 'g', 'c', { count: 1, blockMs: 10 })
    // On time: the scheduling bus promotes its own message when it falls due.
    const sent = Date.now()
    await scheduler.publish('t', { n: 1 }, { delayMs: 250 })
    const [first] = await consumer.consume<{ n: number }>('t', 'g', 'c', {
      count: 1,
      blockMs: 2_000,
    })
    const late = Date.now() - sent
    expect(first.msg).toEqual({ n: 1 })
    expect(late).toBeGreaterThanOrEqual(240)
    expect(late).toBeLessThan(250 + 300)
    // The scheduling process dies before the message is due: the consumer's slow poll moves it.
    await scheduler.publish('t', { n: 2 }, { delayMs: 100 })
    await scheduler.close()
    const [second] = await consumer.consume<{ n: number }>('t', 'g', 'c', {
      count: 1,
      blockMs: 3_000,
    })
    expect(second?.msg).toEqual({ n: 2 })
    // Idle: the consumer polls once per interval, not every 50 ms.
    const admin = new Redis(redis.url)
    const calls = async () => {
      const stats = String(await admin.info('commandstats'))
      return (
        Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) +
        Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0)
      )
    }
    const before = await calls()
    await Bun.sleep(2_000)
    const idle = (await calls()) - before
    admin.disconnect()
    await consumer.close()
    console.log(`bus/delayed: on_time_ms=${late} idle_script_calls_per_s=${idle / 2}`)
    expect(idle).toBeLessThanOrEqual(8)
  } finally {
    await redis.stop()
  }
}, 20_000)

/** The Bus port's contract: every adapter runs these cases. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Bus } from '../../src/ports/bus.ts'

const topicName = () => `test.${crypto.randomUUID()}`

export function busContract(name: string, make: () => Promise<Bus>) {
  describe(`Bus contract [${name}]`, () => {
    let bus: Bus
    beforeAll(async () => {
      bus = await make()
    })
    afterAll(() => bus.close())

    test("a run's history keeps the newest events in seq order whatever the arrival order, and notifies", async () => {
      const run = `run_${crypto.randomUUID().replaceAll('-', '').slice(0, 28)}`
      const got: unknown[] = []
      const off = await bus.subscribe(`hist.${run}`, (p) => got.push(p))
      const offExtra = await bus.subscribe(`extra.${run}`, (p) => got.push(p))
      const entry = (seq: number) => ({ seq, body: JSON.stringify({ seq }) })
      await bus.record(
        run,
        [entry(3), entry(1)],
        { channel: `hist.${run}`, extra: { channel: `extra.${run}`, payload: 'a' } },
        { cap: 4 }
      )
      for (const seq of [2, 5, 4, 6])
        await bus.record(run, [entry(seq)], { channel: `other.${run}` }, { cap: 4, ttlMs: 60_000 })
      // At least the newest `cap` events, in seq order whatever the arrival order.
      const kept = (await bus.history(run, 0, 100)).map((h) => h.seq)
      expect(kept.slice(-4)).toEqual([3, 4, 5, 6])
      expect(kept).toEqual([...kept].sort((a, b) => a - b))
      expect((await bus.history(run, 4, 1)).map((h) => JSON.parse(h.body))).toEqual([{ seq: 5 }])
      expect(await bus.historyStart(run)).toBe(kept[0])
      expect(await bus.historyStart(`run_${'0'.repeat(28)}`)).toBeNull()
      for (let i = 0; i < 50 && got.length < 2; i++) await Bun.sleep(10)
      expect(got).toEqual([[{ seq: 3 }, { seq: 1 }], 'a'])
      off()
      offExtra()
    })

    test('a rate-limit budget admits exactly its burst at once, then one per interval', async () => {
      const key = `simple:p-${crypto.randomUUID()}`
      const rule = { emissionMs: 60_000, burst: 10 }
      const all = await Promise.all(Array.from({ length: 200 }, () => bus.admit(key, rule)))
      const admitted = all.filter((a) => a.allowed)
      expect(admitted.length).toBe(10)
      expect(admitted.map((a) => a.remaining).sort((x, y) => x - y)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ])
      for (const refused of all.filter((a) => !a.allowed)) {
        expect(refused.remaining).toBe(0)
        expect(refused.retryAfterMs).toBeGreaterThan(59_000)
        expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000)
      }
      // Budgets are per key.
      expect((await bus.admit(`${key}:other`, rule)).allowed).toBe(true)
    })

    test('a rate-limit budget sustains its rate over seconds', async () => {
      const key = `standard:p-${crypto.randomUUID()}`
      const rule = { emissionMs: 100, burst: 3 } // 10/s
      const started = Date.now()
      let admitted = 0
      while (Date.now() - started < 2_000) {
        const batch = await Promise.all(Array.from({ length: 5 }, () => bus.admit(key, rule)))
        admitted += batch.filter((a) => a.allowed).length
        await Bun.sleep(5)
      }
      const elapsed = Date.now() - started
      // The burst, then one per 100 ms of the time that passed.
      const expected = 3 + elapsed / 100
      expect(admitted).toBeGreaterThanOrEqual(Math.floor(expected) - 2)
      expect(admitted).toBeLessThanOrEqual(Math.ceil(expected) + 1)
    })

    test('scratch state is kept per run and key, and expires', async () => {
      const run = `run_${crypto.randomUUID().replaceAll('-', '').slice(0, 28)}`
      await bus.putState(run, 'k', 'v1', 60_000)
      await bus.putState(run, 'k', 'v2', 60_000)
      await bus.putState(run, 'short', 'gone', 50)
      expect(await bus.getState(run, 'k')).toBe('v2')
      expect(await bus.getState(`run_${'1'.repeat(28)}`, 'k')).toBeNull()
      await Bun.sleep(120)
      expect(await bus.getState(run, 'short')).toBeNull()
      // Taken once: of racing takers exactly one gets the value.
      await bus.putState(run, 'once', 'mine', 60_000)
      const taken = await Promise.all([1, 2, 3].map(() => bus.takeState(run, 'once')))
      expect(taken.sort()).toEqual(['mine', null, null].sort())
      expect(await bus.getState(run, 'once')).toBeNull()
    })

    test('messages arrive in order, as data, to one consumer of each group', async () => {
      const t = topicName()
      await bus.consume(t, 'g1', 'c1', { count: 1, blockMs: 0 })
      await bus.consume(t, 'g2', 'c1', { count: 1, blockMs: 0 })
      for (let i = 0; i < 5; i++) await bus.publish(t, { i, nested: { ok: true } })
      const a = await bus.consume<{ i: number; nested?: unknown }>(t, 'g1', 'c1', {
        count: 3,
        blockMs: 0,
      })
      const b = await bus.consume<{ i: number }>(t, 'g1', 'c2', { count: 10, blockMs: 0 })
      expect(a.map((d) => d.msg.i)).toEqual([0, 1, 2])
      expect(b.map((d) => d.msg.i)).toEqual([3, 4])
      expect(a[0].msg).toEqual({ i: 0, nested: { ok: true } })
      expect(a[0].deliveries).toBe(1)
      const other = await bus.consume<{ i: number }>(t, 'g2', 'c1', { count: 10, blockMs: 0 })
      expect(other.map((d) => d.msg.i)).toEqual([0, 1, 2, 3, 4])
    })

    test('messages published before the group existed reach its first consumer', async () => {
      const t = topicName()
      await bus.publish(t, { early: true })
      const got = await bus.consume(t, 'late', 'c', { count: 10, blockMs: 100 })
      expect(got.map((d) => d.msg)).toEqual([{ early: true }])
    })

    test('an unacked message is reclaimed after it idles; an acked one never is', async () => {
      const t = topicName()
      await bus.publish(t, { n: 1 })
      await bus.publish(t, { n: 2 })
      const [m1, m2] = await bus.consume<{ n: number }>(t, 'g', 'crashed', {
        count: 2,
        blockMs: 100,
      })
      await bus.ack(t, 'g', [m2.id])
      expect(await bus.reclaim(t, 'g', 'rescuer', 10_000, 10)).toEqual([])
      await Bun.sleep(60)
      const reclaimed = await bus.reclaim<{ n: number }>(t, 'g', 'rescuer', 50, 10)
      expect(reclaimed.map((d) => d.msg.n)).toEqual([1])
      expect(reclaimed[0].id).toBe(m1.id)
      expect(reclaimed[0].deliveries).toBe(2)
      await bus.ack(t, 'g', [m1.id])
      await Bun.sleep(60)
      expect(await bus.reclaim(t, 'g', 'rescuer', 50, 10)).toEqual([])
    })

    test('depth counts what a group has not finished: undelivered and unacked', async () => {
      const t = topicName()
      await bus.consume(t, 'g', 'c', { count: 1, blockMs: 1 })
      expect(await bus.depth(t, 'g')).toBe(0)
      await bus.publish(t, { n: 1 })
      await bus.publish(t, { n: 2 })
      await bus.publish(t, { n: 3 })
      expect(await bus.depth(t, 'g')).toBe(3)
      const got = await bus.consume(t, 'g', 'c', { count: 2, blockMs: 100 })
      expect(await bus.depth(t, 'g')).toBe(3)
      await bus.ack(
        t,
        'g',
        got.map((d) => d.id)
      )
      expect(await bus.depth(t, 'g')).toBe(1)
      const [last] = await bus.consume(t, 'g', 'c', { count: 5, blockMs: 100 })
      await bus.ack(t, 'g', [last.id])
      expect(await bus.depth(t, 'g')).toBe(0)
    })

    test('touch keeps an in-flight message from being reclaimed', async () => {
      const t = topicName()
      await bus.publish(t, { n: 1 })
      const [m] = await bus.consume(t, 'g', 'worker', { count: 1, blockMs: 100 })
      await Bun.sleep(80)
      await bus.touch(t, 'g', 'worker', [m.id])
      expect(await bus.reclaim(t, 'g', 'other', 60, 10)).toEqual([])
    })

    test('a blocking consume wakes on publish and times out empty', async () => {
      const t = topicName()
      const empty = await bus.consume(t, 'g', 'c', { count: 1, blockMs: 50 })
      expect(empty).toEqual([])
      const waiting = bus.consume<{ n: number }>(t, 'g', 'c', { count: 1, blockMs: 2_000 })
      await Bun.sleep(20)
      const started = Date.now()
      await bus.publish(t, { n: 7 })
      const got = await waiting
      expect(got.map((d) => d.msg.n)).toEqual([7])
      expect(Date.now() - started).toBeLessThan(1_000)
    })

    test('a delayed message is not delivered before its delay', async () => {
      const t = topicName()
      await bus.consume(t, 'g', 'c', { count: 1, blockMs: 0 })
      await bus.publish(t, { later: true }, { delayMs: 150 })
      expect(await bus.consume(t, 'g', 'c', { count: 1, blockMs: 50 })).toEqual([])
      const got = await bus.consume(t, 'g', 'c', { count: 1, blockMs: 1_000 })
      expect(got.map((d) => d.msg)).toEqual([{ later: true }])
    })

    test('concurrent consumers never get the same message', async () => {
      const t = topicName()
      for (let i = 0; i < 200; i++) await bus.publish(t, { i })
      const seen: number[] = []
      await Promise.all(
        Array.from({ length: 4 }, async (_, c) => {
          for (;;) {
            const batch = await bus.consume<{ i: number }>(t, 'g', `c${c}`, {
              count: 7,
              blockMs: 20,
            })
            if (batch.length === 0) return
            seen.push(...batch.map((d) => d.msg.i))
            await bus.ack(
              t,
              'g',
              batch.map((d) => d.id)
            )
          }
        })
      )
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    })

    test('notifications reach current subscribers only', async () => {
      const ch = `ch.${crypto.randomUUID()}`
      const got: unknown[] = []
      const unsubscribe = await bus.subscribe(ch, (p) => got.push(p))
      await bus.notify(ch, { a: 1 })
      await Bun.sleep(20)
      unsubscribe()
      await bus.notify(ch, { a: 2 })
      await Bun.sleep(20)
      expect(got).toEqual([{ a: 1 }])
    })
  })
}

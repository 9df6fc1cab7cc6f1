/**
 * The fanout's WebSocket protocol (SPEC §5) against a real server on loopback: every message
 * type, auth before the upgrade, replay after `after` then live with no gap and no duplicate
 * (a property test over random subscribe points while a run emits many events), many runs per
 * connection and many connections per run, and a client that stops reading dropped with 1013
 * while the others get everything. Exported so every backend runs the very same cases.
 */
import { valueOf } from '../../src/metrics.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import { startFanoutServer, type FanoutService } from '../../src/fanout/serve.ts'
import { seededRandom } from '../helpers/cluster.ts'
import { ADMIN, VIEWER, type TestPlatform } from '../helpers/kernel.ts'
import { seqsOf, wsConnect } from '../helpers/ws-client.ts'
import { RUN_LEVEL_EVENTS } from '../../src/runs/lanes.ts'
import { endOf } from './semantics.contract.ts'

type Make = (opts: { config?: Record<string, unknown> }) => Promise<TestPlatform>

/** A run of about 3 events per iteration, slowed so clients can join while it runs. */
export const ticker = (iterations: number, ms = 5) => ({
  name: 'ticker',
  nodes: [
    { id: 'tick', type: 'sleep', config: { ms } },
    { id: 'done', type: 'noop' },
  ],
  edges: [
    { from: 'tick', to: 'tick', max_iterations: iterations },
    { from: 'tick', to: 'done' },
  ],
})

export function fanoutContract(backend: string, make: Make) {
  describe(`fanout WebSocket [${backend}]`, () => {
    let p: TestPlatform
    let api: FanoutService
    let ws: string
    beforeAll(async () => {
      p = await make({ config: { fanoutBufferBytes: 64 * 1024 } })
      api = startFanoutServer(p.kernel, { host: '127.0.0.1', port: 0 })
      ws = `ws://127.0.0.1:${api.port}/ws`
    })
    afterAll(async () => {
      await api.stop()
      await p.close()
    })
    const start = async (workflow: unknown) => {
      const res = await p.call('POST', '/runs', { workflow })
      expect(res.status).toBe(201)
      return res.body.run_id as string
    }
    const lastSeq = async (run: string) => (await endOf(p, run)).last_seq as number
    const range = (from: number, to: number) =>
      Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

    test('auth is checked before the upgrade: no token or a bad one is 401; a viewer may watch', async () => {
      const plain = `http://127.0.0.1:${api.port}/ws`
      const upgrade = {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      }
      expect((await fetch(plain, { headers: upgrade })).status).toBe(401)
      const bad = await fetch(`${plain}?token=nope-nope-nope`, { headers: upgrade })
      expect(bad.status).toBe(401)
      expect(((await bad.json()) as any).error.code).toBe('UNAUTHORIZED')
      const viewer = await wsConnect(`${ws}?token=${VIEWER}`)
      viewer.send({ type: 'ping' })
      expect(await viewer.next((m) => m.type === 'pong')).toEqual({ type: 'pong' })
      viewer.close()
    })

    test('subscribe: subscribed first, then every event in seq order until the end; unsubscribe; errors keep the connection', async () => {
      const run = await start(ticker(5))
      const c = await wsConnect(ws, ADMIN)
      c.send({ type: 'subscribe', run, after: 0 })
      const subscribed = await c.next((m) => m.type === 'subscribed')
      expect(subscribed).toMatchObject({ type: 'subscribed', run })
      expect(typeof subscribed.last_seq).toBe('number')
      await c.next((m) => m.type === 'event' && m.event.type === 'run_completed')
      const last = await lastSeq(run)
      expect(seqsOf(c, run)).toEqual(range(1, last))
      expect(c.messages.findIndex((m) => m.type === 'subscribed')).toBe(0)

      c.send({ type: 'unsubscribe', run })
      expect(await c.next((m) => m.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', run })
      for (const bad of [
        'not json',
        '[1]',
        '{"type":"dance"}',
        '{"type":"subscribe","run":"run_x"}',
        '{"type":"subscribe","scope":"everything"}',
        `{"type":"subscribe","run":"${run}","after":-1}`,
        '{"type":"unsubscribe","run":"nope"}',
      ])
        c.sendRaw(bad)
      for (let i = 0; i < 7; i++) {
        const e = await c.next((m) => m.type === 'error')
        expect(typeof e.code).toBe('string')
        expect(typeof e.message).toBe('string')
      }
      c.send({ type: 'subscribe', run: `run_${'0'.repeat(28)}` })
      expect(await c.next((m) => m.type === 'error' && m.code === 'RUN_NOT_FOUND')).toBeTruthy()
      c.send({ type: 'ping' })
      expect(await c.next((m) => m.type === 'pong')).toEqual({ type: 'pong' })
      c.close()
    })

    test('?run=&after= at connect replays after that seq; a finished run replays and stays quiet', async () => {
      const run = await start(ticker(3, 1))
      const last = await lastSeq(run)
      const c = await wsConnect(`${ws}?run=${run}&after=4`, ADMIN)
      await c.next((m) => m.type === 'event' && m.event.seq === last)
      expect(seqsOf(c, run)).toEqual(range(5, last))
      expect(c.messages[0]).toEqual({ type: 'subscribed', run, last_seq: last })
      c.close()
    })

    test('no gap, no duplicate across the seam: random subscribe points and times over a run of many events', async () => {
      const random = seededRandom(20261202)
      const run = await start(ticker(60, 8))
      const clients: { c: Awaited<ReturnType<typeof wsConnect>>; after: number }[] = []
      for (let i = 0; i < 12; i++) {
        await Bun.sleep(Math.floor(random() * 60))
        const known = (await p.call('GET', `/runs/${run}`)).body.last_seq as number
        const after = Math.floor(random() * (known + 3))
        const c = await wsConnect(ws, ADMIN)
        c.send({ type: 'subscribe', run, after })
        clients.push({ c, after })
      }
      const last = await lastSeq(run)
      expect(last).toBeGreaterThan(150)
      for (const { c, after } of clients) {
        await c.next((m) => m.type === 'event' && m.event.seq === last, 15_000)
        expect({ after, seqs: seqsOf(c, run) }).toEqual({ after, seqs: range(after + 1, last) })
        c.close()
      }
    })

    test('what the history no longer keeps is a gap message, then the kept events follow', async () => {
      const run = await start({
        name: 'long-run',
        nodes: [{ id: 'n', type: 'noop' }],
        edges: [{ from: 'n', to: 'n', max_iterations: 400 }],
      })
      const last = await lastSeq(run)
      expect(last).toBeGreaterThan(1_100)
      const c = await wsConnect(`${ws}?run=${run}&after=10`, ADMIN)
      await c.has((m) => m.type === 'event' && m.event.seq === last, 15_000)
      const gap = c.messages.find((m) => m.type === 'gap')
      expect(gap).toEqual({ type: 'gap', run, from: 11, to: last - 1_000 })
      expect(c.messages.indexOf(gap)).toBe(1) // right after subscribed, before any event
      expect(seqsOf(c, run)).toEqual(range(last - 999, last))
      c.close()
    })

    test('many runs on one connection, many connections on one run; the runs feed sees run-level events', async () => {
      const feed = await wsConnect(ws, ADMIN)
      feed.send({ type: 'subscribe', scope: 'runs' })
      expect(await feed.next((m) => m.type === 'subscribed')).toEqual({
        type: 'subscribed',
        scope: 'runs',
      })
      const runs = await Promise.all([1, 2, 3].map(() => start(ticker(4, 2))))
      const one = await wsConnect(ws, ADMIN)
      for (const run of runs) one.send({ type: 'subscribe', run, after: 0 })
      const many = await Promise.all(runs.map(() => wsConnect(ws, ADMIN)))
      for (const c of many) c.send({ type: 'subscribe', run: runs[0], after: 0 })
      const lasts = await Promise.all(runs.map(lastSeq))
      for (const [i, run] of runs.entries()) {
        await one.has(
          (m) => m.type === 'event' && m.event.run_id === run && m.event.seq === lasts[i]
        )
      }
      for (const [i, run] of runs.entries()) expect(seqsOf(one, run)).toEqual(range(1, lasts[i]))
      for (const c of many) {
        await c.has((m) => m.type === 'event' && m.event.seq === lasts[0])
        expect(seqsOf(c, runs[0])).toEqual(range(1, lasts[0]))
      }
      for (const run of runs)
        await feed.has(
          (m) => m.type === 'event' && m.event.run_id === run && m.event.type === 'run_completed'
        )
      const types = new Set(feed.events().map((e) => e.type))
      expect([...types].every((t) => RUN_LEVEL_EVENTS.has(t))).toBe(true)
      for (const c of [feed, one, ...many]) c.close()
    })

    test('a client that stops reading is closed with 1013; the others get everything', async () => {
      // ~150 events of ~60 KB: more than the kernel's socket buffers hold.
      const big = 'x'.repeat(60_000)
      const run = await start({
        name: 'big-events',
        nodes: [{ id: 'blob', type: 'noop', config: { output: big } }],
        edges: [{ from: 'blob', to: 'blob', max_iterations: 150 }],
      })
      const last = await lastSeq(run)
      // A raw socket that upgrades and then never reads a byte.
      const stuck = net.connect(api.port, '127.0.0.1')
      await new Promise<void>((r) => stuck.once('connect', () => r()))
      stuck.pause()
      stuck.write(
        `GET /ws?token=${ADMIN}&run=${run}&after=0 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
      )
      const reader = await wsConnect(ws, ADMIN)
      reader.send({ type: 'subscribe', run, after: 0 })
      await reader.next((m) => m.type === 'event' && m.event.seq === last, 15_000)
      expect(seqsOf(reader, run)).toEqual(range(1, last))
      const dropped = () => valueOf(api.fanout.metrics.websocketDropped)
      const before = await dropped()
      for (let i = 0; i < 200 && (await dropped()) === before; i++) await Bun.sleep(25)
      // (the stuck client subscribed before the reader; it was dropped, the reader was not)
      expect(await dropped()).toBeGreaterThanOrEqual(1)
      expect(reader.messages.some((m) => m.type === 'error')).toBe(false)
      stuck.destroy()
      reader.close()
    })
  })
}

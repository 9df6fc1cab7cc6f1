/**
 * aob-fanout as its own process on Redis: a client resumes with its last seq across a fanout
 * restart mid-run and misses nothing; two fanout processes serve one run identically; the SSE of
 * a run comes from the fanout too.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ADMIN } from '../helpers/kernel.ts'
import {
  apiOf,
  migratedEnv,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
} from '../helpers/cluster.ts'
import { freePort } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { seqsOf, wsConnect } from '../helpers/ws-client.ts'
import { ticker } from '../contract/fanout.contract.ts'

describe('aob-fanout processes on Redis', () => {
  let env: Record<string, string>
  let procs: ServiceProcess[] = []
  let api: ReturnType<typeof apiOf>
  const fanouts: { port: number; proc: ServiceProcess }[] = []
  const spawnFanout = async (port?: number) => {
    const p = port ?? (await freePort())
    const proc = spawnService('fanout', { ...env, AOB_PORT: String(p) })
    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${p}/health`).then(
          (r) => r.ok,
          () => false
        )) || null,
      10_000,
      'the fanout to listen'
    )
    return { port: p, proc }
  }
  beforeAll(async () => {
    env = await migratedEnv({ AOB_VISIBILITY_MS: '2000' })
    const orchestrator = await spawnOrchestrator(env)
    procs = [orchestrator, spawnService('coordinator', env), spawnService('worker', env)]
    api = apiOf(orchestrator.url, ADMIN)
    fanouts.push(await spawnFanout(), await spawnFanout())
  })
  afterAll(async () => {
    for (const p of [...procs, ...fanouts.map((f) => f.proc)]) await p.kill()
  })

  test('a fanout restarted mid-run: the client reconnects with its last seq and misses nothing', async () => {
    const run = (await api('POST', '/runs', { workflow: ticker(40, 40) })).body.run_id
    const first = fanouts[0]
    const url = (port: number) => `ws://127.0.0.1:${port}/ws`
    const c1 = await wsConnect(url(first.port), ADMIN)
    c1.send({ type: 'subscribe', run, after: 0 })
    await c1.has((m) => m.type === 'event' && m.event.seq >= 20)
    await first.proc.kill('SIGKILL')
    await c1.closed
    const seen = seqsOf(c1, run)
    const last = seen[seen.length - 1]
    fanouts[0] = await spawnFanout(first.port)
    const c2 = await wsConnect(`${url(first.port)}?run=${run}&after=${last}`, ADMIN)
    await c2.has((m) => m.type === 'event' && m.event.type === 'run_completed', 20_000)
    const final = (await api('GET', `/runs/${run}`)).body.last_seq
    const all = [...seen, ...seqsOf(c2, run)]
    expect(all).toEqual(Array.from({ length: final }, (_, i) => i + 1))
    c2.close()
  })

  test('two fanout processes serve one run: both clients get the same events in the same order', async () => {
    const run = (await api('POST', '/runs', { workflow: ticker(15, 10) })).body.run_id
    const [a, b] = await Promise.all(
      fanouts.map((f) => wsConnect(`ws://127.0.0.1:${f.port}/ws?run=${run}&after=0`, ADMIN))
    )
    for (const c of [a, b])
      await c.has((m) => m.type === 'event' && m.event.type === 'run_completed', 15_000)
    const final = (await api('GET', `/runs/${run}`)).body.last_seq
    expect(seqsOf(a, run)).toEqual(Array.from({ length: final }, (_, i) => i + 1))
    expect(a.events(run)).toEqual(b.events(run))
    a.close()
    b.close()
  })

  test('SSE of a run from the fanout: id = seq, resumable with Last-Event-ID, ends with the run', async () => {
    const run = (await api('POST', '/runs', { workflow: ticker(5, 5) })).body.run_id
    const { port } = fanouts[1]
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/runs/${run}/events/stream`)).status).toBe(
      401
    )
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/runs/${run}/events/stream`, {
      headers: { authorization: `Bearer ${ADMIN}`, 'last-event-id': '3' },
    })
    const text = await res.text()
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    const final = (await api('GET', `/runs/${run}`)).body.last_seq
    expect(ids).toEqual(Array.from({ length: final - 3 }, (_, i) => i + 4))
    expect(text).toContain('event: run_completed')
    const metrics = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      })
    ).text()
    expect(metrics).toContain('fanout_messages_total')
    expect(metrics).toContain('websocket_connections')
    expect(metrics).toMatch(/fanout_publish_to_send_seconds_count \d+/)
  })
})

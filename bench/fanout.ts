/**
 * `bun run bench fanout [--connections C] [--runs R] [--rate E] [--seconds S]`: run events through
 * the real path — a run transition committed in Postgres, announced through Redis (history +
 * pub/sub), the aob-fanout process, the WebSocket — to C clients spread over R runs, E events/s
 * in all. Reports delivered messages/s, commit-to-receive latency p50/p99 and the fanout's RSS
 * per connection; then the same clients and rate against raw Bun `server.publish` (its own
 * process) as the baseline. The fd limit of this machine caps C below 20,000 per process.
 */
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { parseConfig } from '../src/config.ts'
import { createKernel } from '../src/kernel.ts'
import { createLogger } from '../src/log.ts'
import { createRun } from '../src/runs/create-run.ts'
import { transact } from '../src/runs/transact.ts'
import type { RunId } from '../src/ids.ts'
import { distributedEnv } from '../tests/helpers/kernel.ts'
import { migrateWith, spawnService } from '../tests/helpers/cluster.ts'
import { freePort } from '../tests/helpers/services.ts'
import { summarize, ms } from './stats.ts'

const TOKEN = 'bench-fanout-token-01'

export async function benchFanout(opts: {
  connections: number
  runs: number
  rate: number
  seconds: number
}) {
  const env = { ...(await distributedEnv()), AOB_TOKENS: `viewer:${TOKEN}`, AOB_LOG_LEVEL: 'error' }
  if (migrateWith(env) !== 0) throw new Error('aob migrate failed')
  const config = parseConfig({ ...env, AOB_LOG_LEVEL: 'error' }, { tokens: [] })
  const kernel = await createKernel(config, { log: createLogger('error', 'bench') })
  const port = await freePort()
  const fanout = spawnService('fanout', {
    ...env,
    AOB_PORT: String(port),
    AOB_FANOUT_BUFFER_BYTES: String(8 * 1024 * 1024),
  })
  for (
    let i = 0;
    i < 100 &&
    !(await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false
    ));
    i++
  )
    await Bun.sleep(50)
  console.log(
    `aob bench fanout: connections=${opts.connections} runs=${opts.runs} rate=${opts.rate} events/s for ${opts.seconds} s, bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`
  )
  try {
    const runIds: string[] = []
    for (let i = 0; i < opts.runs; i++) {
      const { run } = await createRun(kernel, {
        workflowId: 'wf_bench_fanout',
        document: {
          name: 'held',
          nodes: [{ id: 'hold', type: 'sleep', config: { ms: 600_000 } }],
        } as never,
        input: null,
      })
      runIds.push(run.id)
    }
    const rssBefore = rssOf(fanout.proc.pid)
    const aob = await measure(
      opts,
      (i) => `ws://127.0.0.1:${port}/ws?token=${TOKEN}&run=${runIds[i % opts.runs]}&after=0`,
      async (events) => {
        // Round-robin over the runs: each commit is one transition with `n` log events.
        let r = 0
        const tick = 10
        const perTick = opts.rate / (1000 / tick)
        let carry = 0
        const end = Date.now() + opts.seconds * 1000
        const inFlight = new Set<Promise<unknown>>()
        while (Date.now() < end) {
          carry += perTick
          const batch = Math.floor(carry)
          carry -= batch
          for (let k = 0; k < batch; k++) {
            const run = runIds[r++ % opts.runs] as RunId
            const p = transact(kernel, run, (d) => {
              d.emit('log', undefined, { t: performance.timeOrigin + performance.now() })
            }).then(() => events.sent++)
            inFlight.add(p)
            p.finally(() => inFlight.delete(p))
          }
          await Bun.sleep(tick)
        }
        await Promise.all(inFlight)
      }
    )
    const rssAfter = aob.rss ?? rssBefore
    report('aob-fanout', aob, ((rssAfter - rssBefore) * 1024) / opts.connections)

    const rawPort = await freePort()
    const raw = Bun.spawn(['bun', join(import.meta.dir, 'raw-pubsub.ts')], {
      env: { ...process.env, PORT: String(rawPort) },
      stdout: 'ignore',
      stderr: 'inherit',
    })
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`http://127.0.0.1:${rawPort}/nope`).then(
        () => true,
        () => false
      ));
      i++
    )
      await Bun.sleep(50)
    const rawBefore = rssOf(raw.pid)
    const base = await measure(
      opts,
      (i) => `ws://127.0.0.1:${rawPort}/ws?topic=t${i % opts.runs}`,
      async (events) => {
        await fetch(
          `http://127.0.0.1:${rawPort}/start?rate=${opts.rate}&topics=${opts.runs}&seconds=${opts.seconds}`
        )
        await Bun.sleep(opts.seconds * 1000 + 200)
        events.sent = opts.rate * opts.seconds
      },
      raw.pid
    )
    report('raw Bun  ', base, (((base.rss ?? rawBefore) - rawBefore) * 1024) / opts.connections)
    console.log(
      `fanout    aob/raw: delivered ${(aob.delivered / base.delivered).toFixed(2)}×, p99 ${(aob.p99 / base.p99).toFixed(2)}×`
    )
    raw.kill()
  } finally {
    await fanout.kill()
    await kernel.close()
  }

  function rssOf(pid: number): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  }

  async function measure(
    o: typeof opts,
    urlOf: (i: number) => string,
    publish: (events: { sent: number }) => Promise<void>,
    pid = fanout.proc.pid
  ) {
    const latencies: number[] = []
    let received = 0
    const sockets: WebSocket[] = []
    let open = 0
    for (let i = 0; i < o.connections; i++) {
      const ws = new WebSocket(urlOf(i))
      ws.onopen = () => open++
      ws.onmessage = (e) => {
        const msg = JSON.parse(String(e.data))
        if (msg.type !== 'event') return
        received++
        const t = msg.event?.data?.t
        if (typeof t === 'number' && (received & 7) === 0)
          latencies.push(performance.timeOrigin + performance.now() - t)
      }
      sockets.push(ws)
      if (i % 500 === 499) await Bun.sleep(20)
    }
    for (let i = 0; i < 600 && open < o.connections; i++) await Bun.sleep(50)
    if (open < o.connections) console.log(`  (only ${open} of ${o.connections} connections opened)`)
    await Bun.sleep(500)
    const rss = rssOf(pid)
    const events = { sent: 0 }
    // Only what the publishing window delivers counts (not the replays at subscribe).
    received = 0
    latencies.length = 0
    const t0 = performance.now()
    await publish(events)
    await Bun.sleep(500)
    const seconds = (performance.now() - t0) / 1000
    for (const s of sockets) s.close()
    const l = summarize(latencies)
    return { delivered: received / seconds, sent: events.sent, p50: l.p50, p99: l.p99, rss, open }
  }

  function report(name: string, r: Awaited<ReturnType<typeof measure>>, rssPerConn: number) {
    console.log(
      `${name}  ${r.open} connections: ${r.delivered.toFixed(0)} delivered msgs/s (${r.sent} events sent), commit/publish → receive p50 ${ms(r.p50)} p99 ${ms(r.p99)}, RSS ${(rssPerConn / 1024).toFixed(1)} KiB per connection`
    )
  }
}

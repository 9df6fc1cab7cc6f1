/**
 * `bun run bench approvals [--backend embedded|redis-pg] [--runs N]`: approvals end to end over
 * HTTP against real processes (`aob dev --memory`, or an orchestrator, a coordinator, a built-in
 * worker and aob-hitl-worker on Redis + Postgres).
 *
 * - latency: one decision at a time; from sending `POST /approvals/:id/decide` to the next node
 *   (a noop) completed — dispatch, worker, completion and its commit — read from the events'
 *   timestamps (same host clock), so polling adds nothing.
 * - throughput: N approvals pending at once, decided at concurrency 32 → decisions/s; the
 *   baseline is `POST /runs/:id/cancel` of N other paused runs at the same concurrency (one run
 *   transition through the API, like a decision).
 */
import { join } from 'node:path'
import { migrateWith, spawnOrchestrator, spawnService } from '../tests/helpers/cluster.ts'
import { distributedEnv } from '../tests/helpers/kernel.ts'
import { freePort } from '../tests/helpers/services.ts'
import { ms, summarize } from './stats.ts'

const ADMIN = 'bench-admin-token-01'
const DECIDER = 'bench-decider-token-01'
const CONCURRENCY = 32

const gate = {
  name: 'bench-approval',
  nodes: [
    { id: 'gate', type: 'hitl', config: { prompt: 'ok {{ input.i }}?' } },
    { id: 'after', type: 'noop' },
  ],
  edges: [{ from: 'gate', to: 'after', on: 'approve' }],
}

export async function benchApprovals(backend: 'embedded' | 'redis-pg', opts: { runs: number }) {
  const platform = await startApprovalPlatform(backend)
  try {
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${platform.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`)
      return JSON.parse(text)
    }
    const startPaused = async (n: number) => {
      const ids: string[] = []
      await drive(n, async (i) => {
        ids.push((await call(ADMIN, 'POST', '/runs', { workflow: gate, input: { i } })).run_id)
      })
      const byRun = new Map<string, string>()
      for (const runId of ids) {
        for (let tries = 0; !byRun.has(runId); tries++) {
          const page = await call(ADMIN, 'GET', `/approvals?run=${runId}`)
          if (page.approvals[0]) byRun.set(runId, page.approvals[0].id)
          else if (tries > 400) throw new Error(`no approval for ${runId}`)
          else await Bun.sleep(5)
        }
      }
      return ids.map((runId) => ({ runId, approvalId: byRun.get(runId) as string }))
    }
    const endOf = async (runId: string) => {
      for (;;) {
        const run = await call(ADMIN, 'GET', `/runs/${runId}`)
        if (run.status === 'succeeded' || run.status === 'cancelled') return run
        await Bun.sleep(2)
      }
    }

    console.log(
      `aob bench approvals: backend=${backend} pending=${opts.runs} concurrency=${CONCURRENCY} bun=${Bun.version} cpus=${navigator.hardwareConcurrency}`
    )
    // Warm-up, then latency: one decision at a time.
    const samples = await startPaused(120)
    const toNext: number[] = []
    const roundTrip: number[] = []
    for (const [i, s] of samples.entries()) {
      const sent = Date.now()
      const t0 = performance.now()
      await call(DECIDER, 'POST', `/approvals/${s.approvalId}/decide`, { decision: 'approve' })
      roundTrip.push(performance.now() - t0)
      await endOf(s.runId)
      const events = (await call(ADMIN, 'GET', `/runs/${s.runId}/events`)).events as {
        type: string
        node_id?: string
        ts: string
      }[]
      const done = events.find((e) => e.type === 'node_completed' && e.node_id === 'after')
      if (i >= 20 && done) toNext.push(Date.parse(done.ts) - sent)
    }
    const next = summarize(toNext)
    const trip = summarize(roundTrip.slice(20))
    console.log(
      `latency   decision → next node done (n=${next.n}): p50 ${ms(next.p50)} p99 ${ms(next.p99)} max ${ms(next.max)}`
    )
    console.log(`latency   POST decide round trip:         p50 ${ms(trip.p50)} p99 ${ms(trip.p99)}`)

    // Throughput with many approvals pending, against cancels of as many paused runs.
    const toDecide = await startPaused(opts.runs)
    const toCancel = await startPaused(opts.runs)
    const cancel = await drive(opts.runs, async (i) => {
      await call(ADMIN, 'POST', `/runs/${toCancel[i].runId}/cancel`, {})
    })
    const decide = await drive(opts.runs, async (i) => {
      await call(DECIDER, 'POST', `/approvals/${toDecide[i].approvalId}/decide`, {
        decision: 'approve',
      })
    })
    console.log(
      `baseline  POST /runs/:id/cancel (c=${CONCURRENCY}): ${cancel.rate.toFixed(0)}/s, p50 ${ms(cancel.p50)} p99 ${ms(cancel.p99)}`
    )
    console.log(
      `approvals POST /approvals/:id/decide (c=${CONCURRENCY}, ${opts.runs} pending): ${decide.rate.toFixed(0)}/s, p50 ${ms(decide.p50)} p99 ${ms(decide.p99)} (${(decide.rate / cancel.rate).toFixed(2)}× the cancel rate)`
    )
    await Promise.all(toDecide.map((s) => endOf(s.runId)))
  } finally {
    await platform.stop()
  }
}

/** `n` calls of `fn(i)` at CONCURRENCY; rate and latency percentiles. */
async function drive(n: number, fn: (i: number) => Promise<void>) {
  const samples: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now()
        await fn(i)
        samples.push(performance.now() - t0)
      }
    })
  )
  return { rate: n / ((performance.now() - started) / 1000), ...summarize(samples) }
}

async function startApprovalPlatform(backend: 'embedded' | 'redis-pg') {
  const tokens = `operator@decider:${DECIDER}`
  if (backend === 'redis-pg') {
    const env = {
      ...(await distributedEnv()),
      AOB_TOKENS: `admin:${ADMIN},${tokens}`,
      AOB_LOG_LEVEL: 'error',
      AOB_CONCURRENCY: '256',
    }
    if (migrateWith(env) !== 0) throw new Error('aob migrate failed')
    const orchestrator = await spawnOrchestrator(env)
    const others = [
      spawnService('coordinator', env),
      spawnService('worker', env),
      spawnService('hitl-worker', env),
    ]
    await Bun.sleep(500)
    return {
      url: orchestrator.url,
      async stop() {
        for (const p of [...others, orchestrator]) await p.kill()
      },
    }
  }
  const port = await freePort()
  const proc = Bun.spawn(
    ['bun', join(import.meta.dir, '../cli/main.ts'), 'dev', '--memory', '--port', String(port)],
    {
      env: {
        ...process.env,
        AOB_TOKEN: ADMIN,
        AOB_TOKENS: tokens,
        AOB_HOME: '/tmp/aob-bench-home',
        AOB_LOG_LEVEL: 'error',
      },
      stdout: 'ignore',
      stderr: 'ignore',
    }
  )
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false
      )
    )
      break
    await Bun.sleep(50)
  }
  return {
    url,
    async stop() {
      proc.kill()
      await proc.exited
    },
  }
}

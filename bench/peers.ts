/**
 * `bun run bench peers [--runs N] [--reps R]`: aob on Redis + Postgres beside BullMQ
 * (`../shared/peers/bullmq`, a non-durable baseline) on the same machine and workloads,
 * interleaved, R repetitions (default 3), worker concurrency 50 on both sides:
 * - saturated: N chain10 runs (N/2 fanout10 runs) submitted at once (aob: through the API), node
 *   transitions per second until the last run ends;
 * - unloaded: one chain10 run at a time, step latency p50 (BullMQ: SEQUENTIAL=1).
 * Prints each repetition, then the medians and the ratios aob/BullMQ, then the floors of an
 * unloaded step on this machine, measured in the same run: one Redis round trip (BullMQ's step
 * needs at least one) and one durable Postgres commit (aob's needs one before it dispatches).
 */
import { join } from 'node:path'
import Redis from 'ioredis'
import postgres from 'postgres'
import { parseConfig } from '../src/config.ts'
import { createKernel } from '../src/kernel.ts'
import { createLogger } from '../src/log.ts'
import { spawnOrchestrator, spawnService } from '../tests/helpers/cluster.ts'
import { distributedEnv } from '../tests/helpers/kernel.ts'
import { afterWarmup, runWorkload } from './runner.ts'
import { summarize } from './stats.ts'
import { WORKLOADS } from './workloads.ts'

const PEER = join(import.meta.dir, '../../shared/peers/bullmq/run.sh')
const WORKER_CONCURRENCY = 50
const TOKEN = 'bench-peers-admin-0001'

interface Figures {
  chain10: number
  fanout10: number
  stepP50: number
}

/** The floors of an unloaded step on this machine, p50 (ms), each sample after an idle millisecond. */
interface Floors {
  /** One Redis PING. */
  redisRoundTrip: number
  /** One autocommitted one-row INSERT (its WAL flushed). */
  durableCommit: number
}

export async function benchPeers(opts: { runs: number; reps: number; sequentialRuns: number }) {
  const fanoutRuns = Math.max(1, Math.floor(opts.runs / 2))
  console.log(
    `peers: chain10 N=${opts.runs}, fanout10 N=${fanoutRuns}, unloaded chain10 N=${opts.sequentialRuns}, worker concurrency ${WORKER_CONCURRENCY}, ${opts.reps} repetitions, interleaved`
  )
  const results: { aob: Figures; bullmq: Figures; floors: Floors }[] = []
  for (let rep = 1; rep <= opts.reps; rep++) {
    const bullmq = await runBullmq(opts.runs, fanoutRuns, opts.sequentialRuns)
    const { figures: aob, floors } = await runAob(opts.runs, fanoutRuns, opts.sequentialRuns)
    results.push({ aob, bullmq, floors })
    console.log(
      `peers rep ${rep}: chain10 aob ${aob.chain10.toFixed(0)}/s BullMQ ${bullmq.chain10.toFixed(0)}/s; fanout10 aob ${aob.fanout10.toFixed(0)}/s BullMQ ${bullmq.fanout10.toFixed(0)}/s; unloaded step p50 aob ${aob.stepP50.toFixed(3)} ms BullMQ ${bullmq.stepP50.toFixed(3)} ms`
    )
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const m = (side: 'aob' | 'bullmq', k: keyof Figures) => median(results.map((r) => r[side][k]))
  for (const k of ['chain10', 'fanout10'] as const) {
    console.log(
      `peers ${k.padEnd(8)} saturated node transitions/s (median): aob ${m('aob', k).toFixed(0)}, BullMQ ${m('bullmq', k).toFixed(0)} → aob/BullMQ ${(m('aob', k) / m('bullmq', k)).toFixed(2)}× (higher is better)`
    )
  }
  console.log(
    `peers chain10  unloaded step p50 (median): aob ${m('aob', 'stepP50').toFixed(3)} ms, BullMQ ${m('bullmq', 'stepP50').toFixed(3)} ms → aob/BullMQ ${(m('aob', 'stepP50') / m('bullmq', 'stepP50')).toFixed(2)}× (lower is better)`
  )
  const redisHop = median(results.map((r) => r.floors.redisRoundTrip))
  const commit = median(results.map((r) => r.floors.durableCommit))
  console.log(
    `peers floors (median, unloaded): Redis round trip ${redisHop.toFixed(3)} ms, durable Postgres commit ${commit.toFixed(3)} ms; ` +
      `BullMQ's step = ${(m('bullmq', 'stepP50') / redisHop).toFixed(1)} round trips, aob's = ${(m('aob', 'stepP50') / commit).toFixed(1)} commits; ` +
      `one commit alone = ${(commit / m('bullmq', 'stepP50')).toFixed(2)}× BullMQ's step`
  )
}

// --- internal ---

async function runBullmq(
  runs: number,
  fanoutRuns: number,
  sequentialRuns: number
): Promise<Figures> {
  const line = async (workload: string, env: Record<string, string>) => {
    const proc = Bun.spawn(['bash', PEER, workload], {
      env: { ...process.env, CONCURRENCY: String(WORKER_CONCURRENCY), ...env },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ])
    if ((await proc.exited) !== 0)
      throw new Error(`BullMQ ${workload} failed:\n${err.slice(-2000)}`)
    return JSON.parse(out.trim().split('\n').at(-1) as string)
  }
  const chain = await line('chain10', { N: String(runs) })
  const fan = await line('fanout10', { N: String(fanoutRuns) })
  const seq = await line('chain10', { N: String(sequentialRuns), SEQUENTIAL: '1' })
  return {
    chain10: chain.steps_per_s,
    fanout10: fan.steps_per_s,
    stepP50: seq.step_latency_p50_ms,
  }
}

async function runAob(
  runs: number,
  fanoutRuns: number,
  sequentialRuns: number
): Promise<{ figures: Figures; floors: Floors }> {
  const env: Record<string, string> = {
    ...(await distributedEnv()),
    AOB_LOG_LEVEL: 'error',
    AOB_TOKENS: `admin:${TOKEN}`,
  }
  const log = createLogger('error', 'bench')
  const kernel = await createKernel(parseConfig(env, { tokens: [] }), { log, migrate: true })
  const api = await spawnOrchestrator(env)
  const services = [
    api,
    spawnService('coordinator', env),
    spawnService('worker', { ...env, AOB_CONCURRENCY: String(WORKER_CONCURRENCY) }),
  ]
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    max: 1,
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  try {
    const saturated = async (name: 'chain10' | 'fanout10', n: number) => {
      const w = WORKLOADS[name]
      const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
      const stored = await fetch(`${api.url}/api/v1/workflows?tag=${name}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(w.workflow),
      })
      if (stored.status !== 201)
        throw new Error(`storing ${name}: ${stored.status} ${await stored.text()}`)
      const [{ before }] = await sql<
        { before: number }[]
      >`SELECT count(*)::int AS before FROM runs WHERE status = 'succeeded'`
      const t0 = performance.now()
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await fetch(`${api.url}/api/v1/runs`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ workflow: name, input: { i } }),
          })
          if (res.status !== 201) throw new Error(`POST /runs: ${res.status} ${await res.text()}`)
        })
      )
      for (;;) {
        const [{ done }] = await sql<
          { done: number }[]
        >`SELECT count(*)::int AS done FROM runs WHERE status = 'succeeded'`
        if (done - before >= n) break
        await Bun.sleep(10)
      }
      return (n * w.nodes) / ((performance.now() - t0) / 1000)
    }
    const chain10 = await saturated('chain10', runs)
    const fanout10 = await saturated('fanout10', fanoutRuns)
    const timings = afterWarmup(
      await runWorkload(kernel, WORKLOADS.chain10.workflow, sequentialRuns, 1),
      sequentialRuns
    )
    const stepP50 = summarize(timings.flatMap((t) => t.gaps)).p50
    return { figures: { chain10, fanout10, stepP50 }, floors: await floors(env, sql) }
  } finally {
    await sql.end()
    for (const s of services) await s.kill()
    await kernel.close()
  }
}

/** Same-run floors of an unloaded step (see Floors). */
async function floors(env: Record<string, string>, sql: postgres.Sql): Promise<Floors> {
  const p50 = async (fn: () => Promise<unknown>) => {
    const samples: number[] = []
    for (let i = 0; i < 300; i++) {
      await Bun.sleep(1)
      const t0 = performance.now()
      await fn()
      samples.push(performance.now() - t0)
    }
    return summarize(samples.slice(30)).p50
  }
  const redis = new Redis(env.AOB_REDIS_URL)
  try {
    await sql`CREATE TABLE bench_floor (id bigserial PRIMARY KEY, v integer NOT NULL)`
    return {
      redisRoundTrip: await p50(() => redis.ping()),
      durableCommit: await p50(() => sql`INSERT INTO bench_floor (v) VALUES (1)`),
    }
  } finally {
    redis.disconnect()
  }
}

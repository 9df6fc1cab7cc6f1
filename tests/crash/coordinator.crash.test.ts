/**
 * The coordinator SIGKILLed every 1–3 s (seeded schedule, printed) while 200 runs of mixed DAGs
 * execute, restarted each time: every run ends succeeded, no node completion is committed
 * twice, and re-executions are counted.
 */
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { ADMIN } from '../helpers/kernel.ts'
import {
  apiOf,
  seededRandom,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
  migratedEnv,
} from '../helpers/cluster.ts'
import Redis from 'ioredis'
import postgres from 'postgres'
import { waitFor } from '../helpers/wait-for.ts'
import { executions, ledger, recoveryTime } from './ledger.ts'
import { mixedWorkflow } from './workloads.ts'

const RUNS = Number(process.env.AOB_CRASH_RUNS ?? 200)

test('coordinator killed at random moments: every run succeeds, nothing committed twice', async () => {
  const seed = Number(process.env.AOB_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const random = seededRandom(seed)
  const env = await migratedEnv({ AOB_VISIBILITY_MS: '1500' })
  const orchestrator = await spawnOrchestrator(env)
  const workers = [
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
  ]
  let coordinator: ServiceProcess = spawnService('coordinator', env)
  // The first process on a new Redis (the orchestrator, at its start) claims it and rebuilds from
  // Postgres (it cannot know that nothing was lost): let that happen before runs start, so
  // re-executions count only what the kills cause.
  const redis = new Redis(env.AOB_REDIS_URL)
  await waitFor(
    async () => (await redis.exists(`${env.AOB_REDIS_PREFIX}aob:generation`)) === 1,
    10_000,
    'the coordinator to start'
  )
  redis.disconnect()
  const api = apiOf(orchestrator.url, ADMIN)
  const runIds: string[] = []
  let kills = 0
  let storming = true
  const schedule: number[] = []
  const recoveries: Promise<number | null>[] = []
  const storm = (async () => {
    while (storming) {
      const wait = 1000 + Math.floor(random() * 2000)
      schedule.push(wait)
      await Bun.sleep(wait)
      if (!storming) break
      await coordinator.kill('SIGKILL')
      kills++
      const killedAt = Date.now()
      coordinator = spawnService('coordinator', env)
      recoveries.push(recoveryTime(env, killedAt, 10_000))
    }
  })()
  try {
    for (let i = 0; i < RUNS; i++) {
      const res = await api('POST', '/runs', { workflow: mixedWorkflow(i), input: { i } })
      expect(res.status).toBe(201)
      runIds.push(res.body.run_id)
      if (i % 10 === 9) await Bun.sleep(700)
    }
    const deadline = Date.now() + 150_000
    let active = RUNS
    while (active > 0 && Date.now() < deadline) {
      await Bun.sleep(500)
      active =
        (await api('GET', '/runs?status=running&limit=500')).body.runs.length +
        (await api('GET', '/runs?status=queued&limit=500')).body.runs.length
    }
    storming = false
    await storm
    const result = await ledger(env, runIds)
    const recovered = (await Promise.all(recoveries)).filter((r): r is number => r !== null)
    const recovery = recovered.length
      ? `${(Math.max(...recovered) / 1000).toFixed(2)}s max, ${(recovered.reduce((a, b) => a + b, 0) / recovered.length / 1000).toFixed(2)}s mean`
      : 'n/a'
    const reExecutions = executions(workers.map((w) => w.output())) - result.committed
    console.log(
      `crash/coordinator: seed=${seed} runs=${RUNS} kills=${kills} schedule_ms=[${schedule.join(',')}] succeeded=${result.byStatus.succeeded ?? 0} lost=${RUNS - (result.byStatus.succeeded ?? 0)} duplicate_commits=${result.duplicateCommits} re_executions=${reExecutions} seq_gaps=${result.seqGaps} recovery=${recovery}`
    )
    expect(kills).toBeGreaterThan(0)
    expect(result.byStatus).toEqual({ succeeded: RUNS })
    expect(result.duplicateCommits).toBe(0)
    expect(result.seqGaps).toBe(0)
  } finally {
    storming = false
    await storm
    for (const p of [coordinator, orchestrator, ...workers]) await p.kill('SIGKILL')
  }
}, 240_000)

// A group commit carries the completions of many runs. The coordinator dies while one such call
// is in flight (held at its first statement by a table lock), and Postgres then commits the call
// for a process that is gone: each of those completions is committed but its next tasks were
// never dispatched nor its signal acked. The redelivered signals must dispatch them, once.
test('coordinator killed mid-batch: the batch commits after its death, every run still succeeds once', async () => {
  const env = await migratedEnv({ AOB_VISIBILITY_MS: '1000' })
  const orchestrator = await spawnOrchestrator(env)
  const worker = spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' })
  let coordinator: ServiceProcess = spawnService('coordinator', env)
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    max: 2,
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  const api = apiOf(orchestrator.url, ADMIN)
  const runIds: string[] = []
  const chain = {
    name: 'crash-batch',
    nodes: Array.from({ length: 6 }, (_, i) => ({ id: `n${i}`, type: 'noop' })),
    edges: Array.from({ length: 5 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  }
  try {
    const completions = async () =>
      (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM node_completions`)[0].n
    let before = 0
    let orphanCommits = 0
    await sql.begin(async (tx) => {
      // Only group commits write node_completions: with it locked, runs are still created and
      // dispatched, and the coordinator's commits of their first completions wait. Those arriving
      // while one call waits go in the next call (sent once the first counts as stalled, after
      // 1 s): a batch of many runs in flight.
      await tx`LOCK TABLE node_completions IN EXCLUSIVE MODE`
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const res = await api('POST', '/runs', { workflow: chain, input: { i } })
          expect(res.status).toBe(201)
          runIds.push(res.body.run_id)
        })
      )
      await waitFor(
        async () => {
          const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND application_name = 'aob' AND query LIKE '%aob_commit_transitions%'`
          return row.n > 1 || null
        },
        10_000,
        'two group commits to wait on the lock'
      )
      await Bun.sleep(200)
      await coordinator.kill('SIGKILL')
      before = await completions()
    })
    // The orphaned calls go on once the lock is released and commit for a dead process.
    await waitFor(
      async () => {
        const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE state = 'active' AND application_name = 'aob' AND query LIKE '%aob_commit_transitions%'`
        return row.n === 0 || null
      },
      5_000,
      'the orphaned batches to end'
    )
    orphanCommits = (await completions()) - before
    coordinator = spawnService('coordinator', env)
    await waitFor(
      async () => {
        const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM runs
          WHERE id = ANY(${runIds}) AND status = 'succeeded'`
        return row.n === runIds.length || null
      },
      60_000,
      'every run to succeed'
    )
    const result = await ledger(env, runIds)
    console.log(
      `crash/coordinator-mid-batch: runs=${runIds.length} committed_after_kill=${orphanCommits} succeeded=${result.byStatus.succeeded ?? 0} duplicate_commits=${result.duplicateCommits} seq_gaps=${result.seqGaps}`
    )
    expect(orphanCommits).toBeGreaterThan(1)
    expect(result.byStatus).toEqual({ succeeded: runIds.length })
    expect(result.duplicateCommits).toBe(0)
    expect(result.seqGaps).toBe(0)
  } finally {
    await sql.end()
    for (const p of [coordinator, orchestrator, worker]) await p.kill('SIGKILL')
  }
}, 120_000)

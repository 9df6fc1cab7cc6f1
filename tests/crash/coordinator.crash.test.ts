/**
 * The coordinator SIGKILLed every 1–3 s (seeded schedule, printed) while 200 runs of mixed DAGs
 * execute, restarted each time: every run ends succeeded, no node completion is committed
 * twice, and re-executions are counted.
 */
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { ADMIN, distributedEnv } from '../helpers/kernel.ts'
import {
  apiOf,
  seededRandom,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
  migrateWith,
} from '../helpers/cluster.ts'
import Redis from 'ioredis'
import { waitFor } from '../helpers/wait-for.ts'
import { executions, ledger, recoveryTime } from './ledger.ts'
import { mixedWorkflow } from './workloads.ts'

const RUNS = Number(process.env.AOB_CRASH_RUNS ?? 200)

test('coordinator killed at random moments: every run succeeds, nothing committed twice', async () => {
  const seed = Number(process.env.AOB_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const random = seededRandom(seed)
  const env: Record<string, string> = {
    ...(await distributedEnv()),
    AOB_TOKENS: `admin:${ADMIN}`,
    AOB_VISIBILITY_MS: '1500',
  }
  expect(migrateWith(env)).toBe(0)
  const orchestrator = await spawnOrchestrator(env)
  const workers = [
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
  ]
  let coordinator: ServiceProcess = spawnService('coordinator', env)
  // The first coordinator on a new Redis rebuilds from Postgres (it cannot know that nothing was
  // lost): let it do so before runs start, so re-executions count only what the kills cause.
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

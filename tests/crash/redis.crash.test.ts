/**
 * Redis killed and restarted (without persistence: every queue is lost), and Redis flushed,
 * in the middle of runs: the coordinator rebuilds in-flight work from Postgres and every run
 * still finishes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { join } from 'node:path'
import { ADMIN, distributedEnv } from '../helpers/kernel.ts'
import {
  apiOf,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
  migrateWith,
} from '../helpers/cluster.ts'
import { startRedis, type ServerHandle } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { ledger, recoveryTime } from './ledger.ts'
import { mixedWorkflow } from './workloads.ts'

const RUNS = 60

describe('Redis lost mid-run', () => {
  let redis: ServerHandle
  let env: Record<string, string>
  let procs: ServiceProcess[] = []
  let api: ReturnType<typeof apiOf>
  beforeAll(async () => {
    redis = await startRedis()
    env = {
      ...(await distributedEnv({ redisUrl: redis.url })),
      AOB_TOKENS: `admin:${ADMIN}`,
      AOB_VISIBILITY_MS: '1500',
    }
    expect(migrateWith(env)).toBe(0)
    const orchestrator = await spawnOrchestrator(env)
    procs = [
      orchestrator,
      spawnService('coordinator', env),
      spawnService('worker', env),
      spawnService('worker', env),
    ]
    api = apiOf(orchestrator.url, ADMIN)
  })
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL')
    await redis.stop()
  })

  async function startRuns(offset: number): Promise<string[]> {
    const created = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        api('POST', '/runs', { workflow: mixedWorkflow(offset + i, 5), input: { i } })
      )
    )
    expect(created.map((r) => r.status)).toEqual(created.map(() => 201))
    return created.map((r) => r.body.run_id)
  }

  async function allDone(ids: string[]) {
    await waitFor(
      async () => {
        const r = await ledger(env, ids)
        return (r.byStatus.succeeded ?? 0) +
          (r.byStatus.failed ?? 0) +
          (r.byStatus.cancelled ?? 0) ===
          ids.length
          ? r
          : null
      },
      60_000,
      'every run to end'
    )
    return ledger(env, ids)
  }

  test('killed (SIGKILL) and restarted empty', async () => {
    const ids = await startRuns(0)
    await Bun.sleep(300)
    const before = await ledger(env, ids)
    await redis.kill('SIGKILL')
    await Bun.sleep(500)
    const restartedAt = Date.now()
    await redis.start()
    const recovery = await recoveryTime(env, restartedAt, 30_000)
    const result = await allDone(ids)
    console.log(
      `crash/redis-restart: runs=${RUNS} kills=1 in_flight_at_kill=${RUNS - (before.byStatus.succeeded ?? 0)} lost=${RUNS - (result.byStatus.succeeded ?? 0)} duplicate_commits=${result.duplicateCommits} recovery=${recovery === null ? 'n/a' : `${(recovery / 1000).toFixed(2)}s`}`
    )
    expect(result.byStatus).toEqual({ succeeded: RUNS })
    expect(result.duplicateCommits).toBe(0)
  }, 90_000)

  test('flushed (FLUSHALL)', async () => {
    const ids = await startRuns(1000)
    await Bun.sleep(300)
    const before = await ledger(env, ids)
    const admin = new Redis(redis.url)
    const flushedAt = Date.now()
    await admin.flushall()
    admin.disconnect()
    const recovery = await recoveryTime(env, flushedAt, 30_000)
    const result = await allDone(ids)
    console.log(
      `crash/redis-flush: runs=${RUNS} flushes=1 in_flight_at_flush=${RUNS - (before.byStatus.succeeded ?? 0)} lost=${RUNS - (result.byStatus.succeeded ?? 0)} duplicate_commits=${result.duplicateCommits} recovery=${recovery === null ? 'n/a' : `${(recovery / 1000).toFixed(2)}s`}`
    )
    expect(result.byStatus).toEqual({ succeeded: RUNS })
    expect(result.duplicateCommits).toBe(0)
  }, 90_000)
})

import { rateLimitContract, TEST_RATE_LIMITS } from '../contract/rate-limits.contract.ts'
import { spawnOrchestrator, spawnService } from '../helpers/cluster.ts'
import { ADMIN, apiCaller, distributedEnv, OPERATOR, OPERATOR2, VIEWER } from '../helpers/kernel.ts'
import { migrateWith } from '../helpers/cluster.ts'

// Two orchestrator processes on one Redis + Postgres share every budget: requests alternate.
rateLimitContract('redis-pg, two orchestrator processes', async () => {
  const env = {
    ...(await distributedEnv()),
    AOB_TOKENS: `admin:${ADMIN},operator:${OPERATOR},viewer:${VIEWER},operator@ops2:${OPERATOR2}`,
    AOB_RATE_LIMITS: TEST_RATE_LIMITS,
  }
  migrateWith(env)
  const orchestrators = await Promise.all([spawnOrchestrator(env), spawnOrchestrator(env)])
  const procs = [
    ...orchestrators,
    spawnService('coordinator', env),
    spawnService('worker', { ...env, AOB_WORKER_TYPES: 'sleep' }),
  ]
  return {
    calls: orchestrators.map((o) =>
      apiCaller((path, init) => fetch(`${o.url}/api/v1${path}`, init))
    ),
    async close() {
      for (const p of procs) await p.kill()
    },
  }
})

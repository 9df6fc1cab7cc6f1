/** Redis + Postgres for the benchmarks: servers, a fresh schema, one coordinator and W workers. */
import { distributedEnv } from '../tests/helpers/kernel.ts'
import { spawnService, type ServiceProcess } from '../tests/helpers/cluster.ts'

export async function startDistributed(workers: number) {
  const env: Record<string, string> = {
    ...(await distributedEnv()),
    AOB_LOG_LEVEL: 'error',
    AOB_CONCURRENCY: '256',
  }
  // The bench process migrates (createKernel with migrate) before the services query anything.
  const { migrate } = await import('../src/adapters/postgres/migrations.ts')
  const { createPostgresStore } = await import('../src/adapters/postgres/postgres-store.ts')
  const store = createPostgresStore(env.AOB_DATABASE_URL, {
    schema: env.AOB_DATABASE_SCHEMA,
    max: 1,
  })
  await migrate(store.sql)
  await store.close()
  const procs: ServiceProcess[] = [
    spawnService('coordinator', env),
    ...Array.from({ length: workers }, () => spawnService('worker', env)),
  ]
  await Bun.sleep(500)
  return {
    env,
    cpuGroups: {
      coordinator: { pids: [procs[0].proc.pid] },
      workers: { pids: procs.slice(1).map((p) => p.proc.pid) },
      postgres: { comm: ['postgres'] },
      redis: { comm: ['redis-server'] },
    },
    async stop() {
      for (const p of procs) await p.kill()
    },
  }
}

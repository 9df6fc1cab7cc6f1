/**
 * Bounded shutdown: on SIGTERM every service stops taking work, finishes or releases what it
 * holds, and exits within 5 s, even with Redis and Postgres both gone.
 */
import { afterAll, expect, test } from 'bun:test'
import postgres from 'postgres'
import {
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
  migrateWith,
} from '../helpers/cluster.ts'
import { ADMIN } from '../helpers/kernel.ts'
import { startPostgres, startRedis, type ServerHandle } from '../helpers/services.ts'

const servers: ServerHandle[] = []
afterAll(async () => {
  for (const s of servers) await s.stop()
})

test('every service exits within 5 s of SIGTERM with Redis and Postgres unreachable', async () => {
  const [redis, pg] = await Promise.all([startRedis(), startPostgres()])
  servers.push(redis, pg)
  const sql = postgres(pg.url, { onnotice: () => {}, max: 1 })
  await sql.unsafe('CREATE SCHEMA shutdown_test')
  await sql.end()
  const env = {
    AOB_DATABASE_URL: pg.url,
    AOB_REDIS_URL: redis.url,
    AOB_DATABASE_SCHEMA: 'shutdown_test',
    AOB_TOKENS: `admin:${ADMIN}`,
  }
  expect(migrateWith(env)).toBe(0)
  const orchestrator = await spawnOrchestrator(env)
  // A long task in flight on the worker: it must be released, not waited for.
  const res = await fetch(`${orchestrator.url}/api/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({
      workflow: { name: 'long', nodes: [{ id: 's', type: 'sleep', config: { ms: 600_000 } }] },
    }),
  })
  expect(res.status).toBe(201)
  const services: ServiceProcess[] = [
    orchestrator,
    spawnService('coordinator', env),
    spawnService('worker', env),
    spawnService('http-worker', env),
    spawnService('hitl-worker', env),
    spawnService('agent-worker', env),
  ]
  await Bun.sleep(1_500) // let the consumers join their groups and the sleep task start

  await redis.kill('SIGKILL')
  await pg.kill('SIGKILL')
  const times = await Promise.all(
    services.map(async (s) => {
      const started = performance.now()
      s.proc.kill('SIGTERM')
      await s.proc.exited
      return { name: s.name, ms: Math.round(performance.now() - started), code: s.proc.exitCode }
    })
  )
  console.log(
    `crash/shutdown: ${times.map((t) => `${t.name}=${t.ms}ms(exit ${t.code})`).join(' ')}`
  )
  for (const t of times)
    expect({ name: t.name, within: t.ms < 5_500 }).toEqual({ name: t.name, within: true })
}, 60_000)

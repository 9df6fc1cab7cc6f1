/** A worker SIGKILLed in the middle of a task: another worker reclaims the task and the run succeeds. */
import { expect, test } from 'bun:test'
import Redis from 'ioredis'
import { join } from 'node:path'
import { ADMIN } from '../helpers/kernel.ts'
import { apiOf, spawnOrchestrator, spawnService, migratedEnv } from '../helpers/cluster.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { executions } from './ledger.ts'

test('a worker killed mid-task: the task is reclaimed by another worker', async () => {
  const env = await migratedEnv({ AOB_VISIBILITY_MS: '1000' })
  const orchestrator = await spawnOrchestrator(env)
  const coordinator = spawnService('coordinator', env)
  const workers = [
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
    spawnService('worker', { ...env, AOB_LOG_LEVEL: 'debug' }),
  ]
  const redis = new Redis(env.AOB_REDIS_URL)
  try {
    await Bun.sleep(500) // both workers are reading
    const api = apiOf(orchestrator.url, ADMIN)
    const created = await api('POST', '/runs', {
      workflow: {
        name: 'long-task',
        nodes: [
          { id: 'slow', type: 'sleep', config: { ms: 2500 } },
          { id: 'after', type: 'noop' },
        ],
        edges: [{ from: 'slow', to: 'after' }],
      },
    })
    const stream = `${env.AOB_REDIS_PREFIX}{wf.tasks.sleep}`
    const owner = await waitFor(
      async () => {
        // The group is made by a worker's first read: on a slow start it may not be there yet.
        const pending = (await redis
          .xpending(stream, 'workers.sleep', '-', '+', 10)
          .catch((e) => (String(e).includes('NOGROUP') ? [] : Promise.reject(e)))) as [
          string,
          string,
          number,
          number,
        ][]
        return pending[0]?.[1]
      },
      10_000,
      'the sleep task to be taken'
    )
    const pid = Number(owner.split('-')[1])
    const victim = workers.find((w) => w.proc.pid === pid)!
    expect(victim).toBeDefined()
    const killedAt = Date.now()
    await victim.kill('SIGKILL')
    const run = await waitFor(
      async () => {
        const r = (await api('GET', `/runs/${created.body.run_id}`)).body
        return r.status === 'succeeded' ? r : null
      },
      20_000,
      'the run to succeed'
    )
    const survivor = workers.find((w) => w !== victim)!
    const recovery = (Date.parse(run.nodes.slow.finished_at) - killedAt) / 1000
    // Executions that finished: the survivor ran "slow" (reclaimed) and "after"; the victim none.
    const finished = executions(workers.map((w) => w.output()))
    console.log(
      `crash/worker: runs=1 kills=1 lost=0 duplicate_commits=0 re_executions=1 (the killed attempt of "slow", reclaimed by pid ${survivor.proc.pid}) finished_executions=${finished} recovery=${recovery.toFixed(2)}s`
    )
    expect(finished).toBe(2)
    expect(run.nodes.slow.attempts).toBe(1)
    expect(survivor.output()).toContain('"node_id":"slow"')
  } finally {
    redis.disconnect()
    for (const p of [orchestrator, coordinator, ...workers]) await p.kill('SIGKILL')
  }
}, 60_000)

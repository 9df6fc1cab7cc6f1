/**
 * Postgres restarted in the middle of runs while clients keep submitting: every run the API
 * accepted (201) finishes, and every write it acknowledged is still there.
 */
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { ADMIN, distributedEnv } from '../helpers/kernel.ts'
import { apiOf, spawnOrchestrator, spawnService, migrateWith } from '../helpers/cluster.ts'
import { startPostgres } from '../helpers/services.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { ledger, recoveryTime } from './ledger.ts'
import { mixedWorkflow } from './workloads.ts'

test('Postgres restarted mid-run: no accepted run or acknowledged write is lost', async () => {
  const pg = await startPostgres()
  const env = {
    ...(await distributedEnv({ databaseUrl: pg.url })),
    AOB_TOKENS: `admin:${ADMIN}`,
    AOB_VISIBILITY_MS: '1500',
  }
  expect(migrateWith(env)).toBe(0)
  const orchestrator = await spawnOrchestrator(env)
  const procs = [orchestrator, spawnService('coordinator', env), spawnService('worker', env)]
  const api = apiOf(orchestrator.url, ADMIN)
  try {
    const accepted: string[] = []
    const acknowledgedWorkflows: string[] = []
    let refused = 0
    let submitting = true
    const submitter = (async () => {
      for (let i = 0; submitting; i++) {
        const workflow = mixedWorkflow(i, 3)
        const res = await api('POST', '/runs', { workflow, input: { i } }).catch(() => ({
          status: 0,
          body: null,
        }))
        if (res.status === 201) accepted.push(res.body.run_id)
        else refused++
        if (i % 10 === 0) {
          const wf = await api('POST', `/workflows?tag=ack-${i}`, {
            ...(workflow as object),
            description: `ack ${i}`,
          }).catch(() => ({ status: 0, body: null }))
          if (wf.status === 201) acknowledgedWorkflows.push(`ack-${i}`)
        }
        await Bun.sleep(20)
      }
    })()
    await Bun.sleep(1500)
    const acceptedBefore = accepted.length
    await pg.kill('SIGTERM') // pg_ctl stop -m fast: connections are cut, then the server is down
    const downAt = Date.now()
    await Bun.sleep(1000)
    await pg.start()
    const downtime = (Date.now() - downAt) / 1000
    const recovery = await recoveryTime(env, Date.now(), 30_000)
    // Keep submitting until the API accepts runs again (bounded), then a little longer.
    const acceptedAtRestart = accepted.length
    await waitFor(
      () => accepted.length >= acceptedAtRestart + 10,
      30_000,
      'the API to accept runs again'
    )
    submitting = false
    await submitter
    const result = await waitFor(
      async () => {
        const r = await ledger(env, accepted)
        return (r.byStatus.succeeded ?? 0) === accepted.length ? r : null
      },
      60_000,
      'every accepted run to succeed'
    ).catch(() => ledger(env, accepted))
    const stillThere = await Promise.all(
      acknowledgedWorkflows.map(
        async (tag) => (await api('GET', `/workflows/${tag}`)).status === 200
      )
    )
    const lostWrites = stillThere.filter((ok) => !ok).length
    console.log(
      `crash/postgres-restart: runs_accepted=${accepted.length} (before restart ${acceptedBefore}) refused_during_outage=${refused} downtime=${downtime.toFixed(2)}s lost_runs=${accepted.length - (result.byStatus.succeeded ?? 0)} acknowledged_writes=${acknowledgedWorkflows.length} lost_writes=${lostWrites} duplicate_commits=${result.duplicateCommits} recovery=${recovery === null ? 'n/a' : `${(recovery / 1000).toFixed(2)}s`}`
    )
    expect(result.byStatus).toEqual({ succeeded: accepted.length })
    expect(lostWrites).toBe(0)
    expect(result.duplicateCommits).toBe(0)
    expect(accepted.length).toBeGreaterThan(acceptedBefore)
  } finally {
    for (const p of procs) await p.kill('SIGKILL')
    await pg.stop()
  }
}, 120_000)

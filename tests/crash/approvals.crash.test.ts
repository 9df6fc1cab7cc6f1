/**
 * Approvals on Redis + Postgres with processes SIGKILLed at the worst moments: the hitl worker
 * and the coordinator mid-batch while approvals open, the coordinator down while timeouts fall
 * due (it applies them when it comes back), and again while decisions route on. Nothing is lost,
 * no approval is resolved twice, every due timeout is applied once.
 */
import { expect, test } from 'bun:test'
import postgres from 'postgres'
import { ADMIN, OPERATOR2 } from '../helpers/kernel.ts'
import {
  apiOf,
  migratedEnv,
  spawnOrchestrator,
  spawnService,
  type ServiceProcess,
} from '../helpers/cluster.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { ledger } from './ledger.ts'

const RUNS = 40
const TIMEOUT_MS = 6_000

test('approvals survive kill -9 of the hitl worker and the coordinator; timeouts apply once after recovery', async () => {
  // The notify receiver answers slowly, so the hitl worker is killed with tasks in flight.
  const notified = new Map<string, number>()
  const receiver = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { approval: { id: string } }
      notified.set(body.approval.id, (notified.get(body.approval.id) ?? 0) + 1)
      await Bun.sleep(150)
      return new Response('ok')
    },
  })
  const env = await migratedEnv({
    AOB_TOKENS: `admin:${ADMIN},operator@ops2:${OPERATOR2}`,
    AOB_VISIBILITY_MS: '1500',
  })
  const hitlEnv = {
    ...env,
    AOB_CONCURRENCY: '4',
    AOB_HTTP_ALLOW: '127.0.0.1/32',
    AOB_HTTP_PORTS: String(receiver.port),
  }
  const orchestrator = await spawnOrchestrator(env)
  const worker = spawnService('worker', env)
  let hitl: ServiceProcess = spawnService('hitl-worker', hitlEnv)
  let coordinator: ServiceProcess = spawnService('coordinator', env)
  const api = apiOf(orchestrator.url, ADMIN)
  const decider = apiOf(orchestrator.url, OPERATOR2)
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    max: 2,
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  const flow = (timed: boolean) => ({
    name: timed ? 'crash-gate-timed' : 'crash-gate',
    nodes: [
      { id: 'start', type: 'noop' },
      {
        id: 'gate',
        type: 'hitl',
        config: {
          prompt: 'ship it?',
          notify: { url: `http://127.0.0.1:${receiver.port}/hook` },
          ...(timed ? { timeout_ms: TIMEOUT_MS, on_timeout: 'reject' } : {}),
        },
      },
      { id: 'yes', type: 'noop' },
      { id: 'no', type: 'noop' },
    ],
    edges: [
      { from: 'start', to: 'gate' },
      { from: 'gate', to: 'yes', on: 'approve' },
      { from: 'gate', to: 'no', on: 'reject' },
    ],
  })
  const runIds: string[] = []
  const timed = new Set<string>()
  try {
    await Bun.sleep(500) // every service is reading
    for (let i = 0; i < RUNS; i++) {
      const res = await api('POST', '/runs', { workflow: flow(i % 2 === 0) })
      expect(res.status).toBe(201)
      runIds.push(res.body.run_id)
      if (i % 2 === 0) timed.add(res.body.run_id)
    }
    // Mid-batch: some approvals open, some hitl tasks in flight (notified, not reported).
    await Bun.sleep(400)
    await Promise.all([hitl.kill('SIGKILL'), coordinator.kill('SIGKILL')])
    const openedBeforeKill = (
      await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM approvals`
    )[0].n
    await Bun.sleep(300)
    hitl = spawnService('hitl-worker', hitlEnv)
    coordinator = spawnService('coordinator', env)
    await waitFor(
      async () =>
        (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM approvals`)[0].n === RUNS ||
        null,
      30_000,
      'every approval to open'
    )
    await hitl.kill('SIGKILL') // killed while every approval is pending: nothing depends on it

    // The coordinator is down while every timeout falls due, and applies them when it is back.
    const due = await sql<
      { first: Date; last: Date }[]
    >`SELECT min(timeout_at) AS first, max(timeout_at) AS last FROM approvals WHERE timeout_at IS NOT NULL`
    await Bun.sleep(Math.max(0, due[0].first.getTime() - Date.now() - 300))
    await coordinator.kill('SIGKILL')
    await Bun.sleep(Math.max(0, due[0].last.getTime() - Date.now() + 700))
    const pendingWhileDown = (
      await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM approvals WHERE timeout_at IS NOT NULL AND status = 'pending'`
    )[0].n
    const restartedAt = Date.now()
    coordinator = spawnService('coordinator', env)
    await waitFor(
      async () =>
        (
          await sql<
            { n: number }[]
          >`SELECT count(*)::int AS n FROM approvals WHERE timeout_at IS NOT NULL AND status = 'pending'`
        )[0].n === 0 || null,
      10_000,
      'the due timeouts to be applied'
    )
    const appliedWithinMs = Math.max(
      ...(
        await sql<
          { at: string }[]
        >`SELECT record->>'decided_at' AS at FROM approvals WHERE status = 'timed_out'`
      ).map((r) => Date.parse(r.at) - restartedAt)
    )

    // Decisions while the coordinator is killed once more and a new hitl worker starts.
    hitl = spawnService('hitl-worker', hitlEnv)
    const pending = (await api('GET', '/approvals?status=pending&limit=500')).body.approvals as {
      id: string
      run_id: string
    }[]
    const decisions = pending.map((a, i) =>
      decider('POST', `/approvals/${a.id}/decide`, {
        decision: i % 3 === 0 ? 'reject' : 'approve',
      })
    )
    await Bun.sleep(20)
    await coordinator.kill('SIGKILL')
    const answers = await Promise.all(decisions)
    coordinator = spawnService('coordinator', env)
    await waitFor(
      async () =>
        (
          await sql<
            { n: number }[]
          >`SELECT count(*)::int AS n FROM runs WHERE status NOT IN ('succeeded', 'failed', 'cancelled')`
        )[0].n === 0 || null,
      30_000,
      'every run to end'
    )

    const result = await ledger(env, runIds)
    const [approvals] = await sql<
      { total: number; runs: number; pending: number; timed_out: number; decided: number }[]
    >`SELECT count(*)::int AS total, count(DISTINCT run_id)::int AS runs,
             count(*) FILTER (WHERE status = 'pending')::int AS pending,
             count(*) FILTER (WHERE status = 'timed_out')::int AS timed_out,
             count(*) FILTER (WHERE status IN ('approved', 'rejected'))::int AS decided
        FROM approvals`
    const [events] = await sql<{ required: number; decided: number; doubly: number }[]>`
      SELECT count(*) FILTER (WHERE type = 'approval_required')::int AS required,
             count(*) FILTER (WHERE type = 'approval_decided')::int AS decided,
             (SELECT count(*)::int FROM (SELECT data->>'approval_id' FROM events
                WHERE type = 'approval_decided' GROUP BY 1 HAVING count(*) > 1) d) AS doubly
        FROM events WHERE run_id = ANY(${runIds})`
    const duplicateNotifies = [...notified.values()].filter((n) => n > 1).length
    console.log(
      `crash/approvals: runs=${RUNS} kills=hitl×2,coordinator×3 opened_before_kill=${openedBeforeKill} approvals=${approvals.total} lost=${RUNS - (result.byStatus.succeeded ?? 0)} double_resolutions=${events.doubly} timeouts_due_while_down=${pendingWhileDown} timed_out=${approvals.timed_out} applied_within=${appliedWithinMs}ms_of_restart decided=${approvals.decided} decide_answers=${[...new Set(answers.map((a) => a.status))].join('/')} duplicate_commits=${result.duplicateCommits} notified=${notified.size} renotified=${duplicateNotifies}`
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(result.byStatus).toEqual({ succeeded: RUNS })
    expect(result.duplicateCommits).toBe(0)
    expect(result.seqGaps).toBe(0)
    expect(approvals).toEqual({
      total: RUNS,
      runs: RUNS,
      pending: 0,
      timed_out: timed.size,
      decided: RUNS - timed.size,
    })
    expect(events).toEqual({ required: RUNS, decided: RUNS, doubly: 0 })
    expect(pendingWhileDown).toBe(timed.size)
    expect(appliedWithinMs).toBeLessThan(3_000)
    expect(notified.size).toBe(RUNS)
  } finally {
    await sql.end()
    for (const p of [coordinator, hitl, worker, orchestrator]) await p.kill('SIGKILL')
    receiver.stop(true)
  }
}, 120_000)

/**
 * Approvals (SPEC §4.1) through the API, the coordinator and the hitl worker: every rule of
 * deciding, quorum, timeouts, cancellation, reads, and a decision racing its timeout. Exported so
 * every backend runs the very same cases.
 */
import { valueOf } from '../../src/metrics.ts'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { principalOf } from '../../src/config.ts'
import { createApprovalTimeouts } from '../../src/coordinator/approval-timeouts.ts'
import type { Handler } from '../../src/worker/run-worker.ts'
import { createHitlHandler } from '../../workers/hitl/handler.ts'
import { ADMIN, OPERATOR, OPERATOR2, VIEWER, type TestPlatform } from '../helpers/kernel.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { harness } from '../net/guard-harness.ts'
import { endOf } from './semantics.contract.ts'

type Make = (opts: { handlers?: Record<string, Handler> }) => Promise<TestPlatform>

const ADMIN_NAME = principalOf('admin', ADMIN)
const OPERATOR_NAME = principalOf('operator', OPERATOR)

/** start → gate (hitl) → ok on approve, no on reject, after (plain edge) in both cases. */
function gateFlow(hitl: Record<string, unknown> = {}, name = 'approval') {
  return {
    name,
    nodes: [
      { id: 'start', type: 'noop', config: { output: { amount: 1200 } } },
      {
        id: 'gate',
        type: 'hitl',
        config: {
          prompt: 'Approve order of {{nodes.start.output.amount}}?',
          data: { limit: '{{nodes.start.output.amount}}' },
          ...hitl,
        },
      },
      { id: 'ok', type: 'noop', config: { output: 'approved path' } },
      { id: 'no', type: 'noop', config: { output: 'rejected path' } },
      { id: 'after', type: 'noop' },
    ],
    edges: [
      { from: 'start', to: 'gate' },
      { from: 'gate', to: 'ok', on: 'approve' },
      { from: 'gate', to: 'no', on: 'reject' },
      { from: 'gate', to: 'after' },
    ],
  }
}

export function approvalsContract(backend: string, make: Make) {
  describe(`approvals [${backend}]`, () => {
    let p: TestPlatform

    beforeAll(async () => {
      p = await make({})
    })
    afterAll(async () => {
      await p.close()
    })

    /** Starts a run (as `token`) and waits for its approval to be pending. */
    const startAndWait = async (workflow: unknown, token = ADMIN) => {
      const created = await p.call('POST', '/runs', { workflow }, token)
      expect(created.status).toBe(201)
      const runId = created.body.run_id as string
      const approval = await waitFor(
        async () => {
          const r = await p.call('GET', `/approvals?run=${runId}&status=pending`)
          return r.body.approvals[0] ?? null
        },
        10_000,
        `an approval of ${runId}`
      )
      return { runId, approval }
    }
    const decide = (id: string, body: unknown, token = OPERATOR2) =>
      p.call('POST', `/approvals/${id}/decide`, body, token)
    const eventsOf = async (runId: string) =>
      (await p.call('GET', `/runs/${runId}/events`)).body.events as {
        type: string
        node_id?: string
        data: any
      }[]

    test('a hitl node pauses the run; approving resumes it along on: approve and plain edges', async () => {
      const { runId, approval } = await startAndWait(gateFlow())
      expect(approval).toMatchObject({
        run_id: runId,
        node_id: 'gate',
        iteration: 1,
        prompt: 'Approve order of 1200?',
        status: 'pending',
        quorum: 1,
        votes: [],
        decision: null,
        decided_by: null,
        data: { limit: 1200 },
        timeout_at: null,
        approvers: null,
      })
      const paused = (await p.call('GET', `/runs/${runId}`)).body
      expect(paused.status).toBe('paused')
      expect(paused.nodes.gate.status).toBe('waiting')
      expect(paused.approvals.map((a: any) => a.id)).toEqual([approval.id])
      const required = (await eventsOf(runId)).filter((e) => e.type === 'approval_required')
      expect(required).toHaveLength(1)
      expect(required[0].data).toEqual({
        approval_id: approval.id,
        prompt: 'Approve order of 1200?',
        timeout_at: null,
        quorum: 1,
        approvers: null,
      })

      // Counted by the process that committed (in process here; the orchestrator's otherwise).
      const counted = () =>
        p.app ? valueOf(p.kernel.metrics.approvals, { decision: 'approved' }) : Promise.resolve(0)
      const before = await counted()
      const res = await decide(approval.id, { decision: 'approve', comment: 'fine' })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({
        status: 'approved',
        decision: 'approve',
        decided_by: 'ops2',
      })
      const run = await endOf(p, runId)
      expect(run.status).toBe('succeeded')
      expect(run.nodes.ok.status).toBe('succeeded')
      expect(run.nodes.no.status).toBe('skipped')
      expect(run.nodes.after.status).toBe('succeeded')
      expect(run.nodes.gate.output).toMatchObject({
        decision: 'approve',
        decided_by: 'ops2',
        comment: 'fine',
        data: { limit: 1200 },
        votes: [{ by: 'ops2', decision: 'approve', comment: 'fine' }],
      })
      expect(run.approvals[0]).toMatchObject({ status: 'approved', comment: 'fine' })
      const decided = (await eventsOf(runId)).filter((e) => e.type === 'approval_decided')
      expect(decided.map((e) => e.data)).toEqual([
        { approval_id: approval.id, status: 'approved', decision: 'approve', decided_by: 'ops2' },
      ])
      if (p.app) expect(await counted()).toBe(before + 1)
      // Resolved: a second decision is a conflict and changes nothing.
      const again = await decide(approval.id, { decision: 'reject' }, OPERATOR)
      expect(again.status).toBe(409)
      expect((await p.call('GET', `/approvals/${approval.id}`)).body.status).toBe('approved')
    })

    test('rejecting routes on: reject; the decision data overrides the default', async () => {
      const { runId, approval } = await startAndWait(gateFlow({ quorum: 2 }))
      const res = await decide(approval.id, { decision: 'reject', data: { why: 'too much' } })
      expect(res.status).toBe(200)
      expect(res.body.status).toBe('rejected') // one reject rejects, whatever the quorum
      const run = await endOf(p, runId)
      expect(run.nodes.no.status).toBe('succeeded')
      expect(run.nodes.ok.status).toBe('skipped')
      expect(run.nodes.after.status).toBe('succeeded')
      expect(run.nodes.gate.output.data).toEqual({ why: 'too much' })
    })

    test('who may decide: role, approvers by role or name, no self-approval by default', async () => {
      // The run's creator (OPERATOR) may not decide; a viewer may not; ops2 may.
      const own = await startAndWait(gateFlow(), OPERATOR)
      expect((await decide(own.approval.id, { decision: 'approve' }, OPERATOR)).status).toBe(403)
      expect((await decide(own.approval.id, { decision: 'approve' }, VIEWER)).status).toBe(403)
      expect((await decide(own.approval.id, { decision: 'approve' }, ADMIN)).status).toBe(200)

      const self = await startAndWait(gateFlow({ allow_self_approval: true }), OPERATOR)
      expect((await decide(self.approval.id, { decision: 'approve' }, OPERATOR)).status).toBe(200)

      // By name: only ops2; an admin that matches nothing is refused too.
      const named = await startAndWait(gateFlow({ approvers: ['ops2'] }))
      const refused = await decide(named.approval.id, { decision: 'approve' }, OPERATOR)
      expect(refused.status).toBe(403)
      expect(refused.body.error.code).toBe('FORBIDDEN')
      expect((await decide(named.approval.id, { decision: 'approve' }, ADMIN)).status).toBe(403)
      expect((await decide(named.approval.id, { decision: 'approve' }, OPERATOR2)).status).toBe(200)

      // By role: `admin` matches admins only.
      const admins = await startAndWait(gateFlow({ approvers: ['admin'] }), OPERATOR)
      expect((await decide(admins.approval.id, { decision: 'approve' }, OPERATOR2)).status).toBe(
        403
      )
      expect((await decide(admins.approval.id, { decision: 'approve' }, ADMIN)).status).toBe(200)
      // Refused attempts left no vote behind.
      const record = (await p.call('GET', `/approvals/${admins.approval.id}`)).body
      expect(record.votes.map((v: any) => v.by)).toEqual([ADMIN_NAME])
    })

    test('quorum: distinct principals; a non-resolving vote logs; a second vote is a conflict', async () => {
      const { runId, approval } = await startAndWait(
        gateFlow({ quorum: 2, approvers: ['operator'] })
      )
      const first = await decide(approval.id, { decision: 'approve', comment: 'one' })
      expect(first.status).toBe(200)
      expect(first.body).toMatchObject({ status: 'pending', votes: [{ by: 'ops2' }] })
      expect((await decide(approval.id, { decision: 'approve' })).status).toBe(409)
      expect((await p.call('GET', `/runs/${runId}`)).body.status).toBe('paused')
      const logs = (await eventsOf(runId)).filter(
        (e) => e.type === 'log' && e.data.approval_id === approval.id
      )
      expect(logs).toHaveLength(1)
      const second = await decide(approval.id, { decision: 'approve', comment: 'two' }, OPERATOR)
      expect(second.status).toBe(200)
      expect(second.body).toMatchObject({
        status: 'approved',
        decided_by: OPERATOR_NAME,
        comment: 'two',
      })
      expect(second.body.votes.map((v: any) => v.by)).toEqual(['ops2', OPERATOR_NAME])
      const run = await endOf(p, runId)
      expect(run.nodes.ok.status).toBe('succeeded')
      expect(run.nodes.gate.output.votes).toHaveLength(2)
    })

    test('errors in the order of SPEC §4.1: 401, 400/422, 404, 403, 409', async () => {
      const { approval } = await startAndWait(gateFlow({ approvers: ['ops2'] }))
      const unknown = `apr_${'0'.repeat(28)}`
      expect((await decide(approval.id, { decision: 'approve' }, 'not-a-token')).status).toBe(401)
      expect((await decide(unknown, '{"decision":', VIEWER)).status).toBe(400)
      const invalid = await decide(unknown, { decision: 'maybe' }, VIEWER)
      expect(invalid.status).toBe(422)
      expect(invalid.body.error.code).toBe('INVALID_DECISION')
      expect((await decide(unknown, [], VIEWER)).status).toBe(422)
      expect((await decide(unknown, { decision: 'approve', extra: 1 }, VIEWER)).status).toBe(422)
      const missing = await decide(unknown, { decision: 'approve' }, VIEWER)
      expect(missing.status).toBe(404)
      expect(missing.body.error.code).toBe('APPROVAL_NOT_FOUND')
      expect((await decide('apr_../../x', { decision: 'approve' })).status).toBe(404)
      expect((await p.call('GET', `/approvals/${unknown}`)).status).toBe(404)
      expect((await decide(approval.id, { decision: 'approve' }, VIEWER)).status).toBe(403)
      expect((await decide(approval.id, { decision: 'approve' }, OPERATOR2)).status).toBe(200)
      expect((await decide(approval.id, { decision: 'approve' }, OPERATOR)).status).toBe(403)
      expect((await decide(approval.id, { decision: 'approve' }, OPERATOR2)).status).toBe(409)
    })

    test('timeouts apply on_timeout: reject, approve, or fail (caught by on: error)', async () => {
      const rejected = await startAndWait(gateFlow({ timeout_ms: 300 }))
      expect(rejected.approval.timeout_at).not.toBeNull()
      const ends = await Promise.all([
        endOf(p, rejected.runId),
        (async () => {
          const a = await startAndWait(gateFlow({ timeout_ms: 300, on_timeout: 'approve' }))
          return endOf(p, a.runId)
        })(),
        (async () => {
          const flow = gateFlow({ timeout_ms: 300, on_timeout: 'fail' })
          flow.nodes.push({ id: 'caught', type: 'noop', config: { output: 'caught' } })
          flow.edges.push({ from: 'gate', to: 'caught', on: 'error' } as never)
          const a = await startAndWait(flow)
          return endOf(p, a.runId)
        })(),
      ])
      const [byReject, byApprove, byFail] = ends
      expect(byReject.status).toBe('succeeded')
      expect(byReject.nodes.no.status).toBe('succeeded')
      expect(byReject.nodes.gate.output).toMatchObject({
        decision: 'reject',
        decided_by: 'timeout',
      })
      expect(byReject.approvals[0]).toMatchObject({ status: 'timed_out', decided_by: 'timeout' })
      const lateness =
        Date.parse(byReject.approvals[0].decided_at) - Date.parse(byReject.approvals[0].timeout_at)
      expect(lateness).toBeGreaterThanOrEqual(0)
      expect(lateness).toBeLessThan(1_000)
      expect(byApprove.nodes.ok.status).toBe('succeeded')
      expect(byApprove.approvals[0]).toMatchObject({ status: 'timed_out', decision: 'approve' })
      expect(byFail.nodes.gate.status).toBe('failed')
      expect(byFail.nodes.gate.error.code).toBe('APPROVAL_TIMED_OUT')
      expect(byFail.nodes.caught.status).toBe('succeeded')
      expect(byFail.approvals[0]).toMatchObject({ status: 'timed_out', decision: null })
    })

    test('cancelling the run cancels its pending approvals', async () => {
      const { runId, approval } = await startAndWait(gateFlow())
      expect((await p.call('POST', `/runs/${runId}/cancel`, {})).status).toBe(200)
      const run = await endOf(p, runId)
      expect(run.nodes.gate.status).toBe('cancelled')
      expect(run.approvals[0]).toMatchObject({ id: approval.id, status: 'cancelled' })
      expect((await decide(approval.id, { decision: 'approve' })).status).toBe(409)
      const decided = (await eventsOf(runId)).filter((e) => e.type === 'approval_decided')
      expect(decided.map((e) => e.data.status)).toEqual(['cancelled'])
    })

    test('an approval inside a parallel branch holds the join until decided', async () => {
      const workflow = {
        name: 'branches',
        nodes: [
          { id: 'a', type: 'noop' },
          { id: 'fast', type: 'noop' },
          { id: 'gate', type: 'hitl', config: { prompt: 'ok?' } },
          { id: 'join', type: 'noop' },
        ],
        edges: [
          { from: 'a', to: 'fast' },
          { from: 'a', to: 'gate' },
          { from: 'fast', to: 'join' },
          { from: 'gate', to: 'join', on: 'approve' },
        ],
      }
      const { runId, approval } = await startAndWait(workflow)
      await waitFor(
        async () =>
          (await p.call('GET', `/runs/${runId}`)).body.nodes.fast.status === 'succeeded' || null,
        5_000,
        'the other branch'
      )
      await Bun.sleep(100)
      const paused = (await p.call('GET', `/runs/${runId}`)).body
      expect(paused.status).toBe('paused')
      expect(paused.nodes.join.status).toBe('pending')
      expect((await decide(approval.id, { decision: 'approve' })).status).toBe(200)
      const run = await endOf(p, runId)
      expect(run.nodes.join.status).toBe('succeeded')
    })

    test('a hitl node in a loop opens one approval per activation (iteration)', async () => {
      const workflow = {
        name: 'retry-until-approved',
        nodes: [
          { id: 'draft', type: 'noop' },
          { id: 'gate', type: 'hitl', config: { prompt: 'draft ok?' } },
          { id: 'publish', type: 'noop' },
        ],
        edges: [
          { from: 'draft', to: 'gate' },
          { from: 'gate', to: 'draft', on: 'reject', max_iterations: 3 },
          { from: 'gate', to: 'publish', on: 'approve' },
        ],
      }
      const { runId, approval: first } = await startAndWait(workflow)
      expect(first.iteration).toBe(1)
      expect((await decide(first.id, { decision: 'reject', comment: 'redo' })).status).toBe(200)
      const second = await waitFor(
        async () =>
          (await p.call('GET', `/approvals?run=${runId}&status=pending`)).body.approvals[0] ?? null,
        10_000,
        'the second approval'
      )
      expect(second.id).not.toBe(first.id)
      expect(second.iteration).toBe(2)
      expect((await decide(first.id, { decision: 'approve' })).status).toBe(409)
      expect((await decide(second.id, { decision: 'approve' })).status).toBe(200)
      const run = await endOf(p, runId)
      expect(run.status).toBe('succeeded')
      expect(run.nodes.publish.status).toBe('succeeded')
      expect(run.approvals.map((a: any) => [a.iteration, a.status])).toEqual([
        [2, 'approved'],
        [1, 'rejected'],
      ])
    })

    test('hitl nodes whose ids are prototype keys decide like any other', async () => {
      const workflow = {
        name: 'hostile-gates',
        nodes: [
          { id: '__proto__', type: 'hitl', config: { prompt: 'proto?' } },
          { id: 'constructor', type: 'noop', config: { output: 'ok' } },
        ],
        edges: [{ from: '__proto__', to: 'constructor', on: 'approve' }],
      }
      const { runId, approval } = await startAndWait(workflow)
      expect(approval.node_id).toBe('__proto__')
      expect((await decide(approval.id, { decision: 'approve' })).status).toBe(200)
      const run = await endOf(p, runId)
      expect(run.status).toBe('succeeded')
      expect(run.output).toEqual({ constructor: 'ok' })
    })

    test('GET /approvals filters by status and run, newest first, with a cursor', async () => {
      const runs = []
      for (let i = 0; i < 3; i++) runs.push(await startAndWait(gateFlow({}, `list-${i}`)))
      const page1 = await p.call('GET', '/approvals?status=pending&limit=2')
      expect(page1.status).toBe(200)
      expect(page1.body.approvals).toHaveLength(2)
      expect(page1.body.approvals[0].id).toBe(runs[2].approval.id)
      expect(page1.body.approvals[1].id).toBe(runs[1].approval.id)
      const page2 = await p.call(
        'GET',
        `/approvals?status=pending&limit=2&cursor=${page1.body.next_cursor}`
      )
      const ids = page2.body.approvals.map((a: any) => a.id)
      expect(ids).toContain(runs[0].approval.id)
      expect(ids).not.toContain(runs[1].approval.id)
      const byRun = await p.call('GET', `/approvals?run=${runs[0].runId}`)
      expect(byRun.body.approvals.map((a: any) => a.id)).toEqual([runs[0].approval.id])
      expect((await p.call('GET', '/approvals?status=maybe')).status).toBe(400)
      expect((await p.call('GET', '/approvals?run=../etc')).status).toBe(400)
      expect((await p.call('GET', '/approvals?cursor=run_x')).status).toBe(400)
      expect((await p.call('GET', '/approvals', undefined, VIEWER)).status).toBe(200)
      for (const r of runs) await p.call('POST', `/runs/${r.runId}/cancel`, {})
    })

    test('a decision racing the timeout resolves each approval exactly once', async () => {
      // The coordinator's own timer and sweep race too; this adds the API and a second sweeper.
      const timeouts = createApprovalTimeouts(p.kernel)
      const count = 12
      const started = await Promise.all(
        Array.from({ length: count }, () => startAndWait(gateFlow({ timeout_ms: 1_500 })))
      )
      const dueAt = Math.max(...started.map((s) => Date.parse(s.approval.timeout_at)))
      await Bun.sleep(Math.max(0, dueAt - Date.now()))
      const results = await Promise.all(
        started.map(async (s) => {
          const [res] = await Promise.all([
            decide(s.approval.id, { decision: 'approve' }),
            timeouts.sweep(),
          ])
          return { ...s, status: res.status }
        })
      )
      timeouts.stop()
      for (const r of results) {
        const run = await endOf(p, r.runId)
        const events = await eventsOf(r.runId)
        const decided = events.filter((e) => e.type === 'approval_decided')
        const completed = events.filter((e) => e.type === 'node_completed' && e.node_id === 'gate')
        expect({ decided: decided.length, completed: completed.length }).toEqual({
          decided: 1,
          completed: 1,
        })
        const final = run.approvals[0]
        // Whoever won, the approval, the node's output and the answer agree.
        if (r.status === 200) expect(final.status).toBe('approved')
        else {
          expect(r.status).toBe(409)
          expect(final.status).toBe('timed_out')
        }
        expect(run.nodes.gate.output.decided_by).toBe(final.decided_by)
      }
    })

    test('notify: a JSON POST through the SSRF guard; a refused or failed one is logged, never fatal', async () => {
      const received: { url: string; body: any }[] = []
      const h = harness({
        dns: { 'hooks.example': ['93.184.216.34'] },
        respond: async (t, init) => {
          received.push({ url: t.url.toString(), body: JSON.parse(String(init.body)) })
          return new Response('ok')
        },
      })
      const q = await make({ handlers: { hitl: createHitlHandler(h.fetch) } })
      try {
        const created = await q.call('POST', '/runs', {
          workflow: gateFlow({ notify: { url: 'https://hooks.example/approvals' } }),
        })
        const blocked = await q.call('POST', '/runs', {
          workflow: gateFlow({ notify: { url: 'http://169.254.169.254/latest' } }),
        })
        const pending = async (runId: string) =>
          waitFor(
            async () => (await q.call('GET', `/approvals?run=${runId}`)).body.approvals[0] ?? null,
            10_000,
            'approval'
          )
        const sent = await pending(created.body.run_id)
        const refused = await pending(blocked.body.run_id)
        expect(received).toHaveLength(1)
        expect(received[0].url).toBe('https://93.184.216.34:443/approvals')
        expect(received[0].body).toMatchObject({
          type: 'approval_required',
          approval: { id: sent.id, prompt: 'Approve order of 1200?', status: 'pending' },
        })
        // Nothing was opened toward the metadata address: the guard refused it.
        expect(h.calls.every((c) => !String(c.address).startsWith('169.254'))).toBe(true)
        expect(refused.status).toBe('pending')
        const logs = (
          await q.call('GET', `/runs/${blocked.body.run_id}/events`)
        ).body.events.filter(
          (e: any) => e.type === 'log' && String(e.data.message).includes('notify failed')
        )
        expect(logs).toHaveLength(1)
      } finally {
        await q.close()
      }
    })
  })
}

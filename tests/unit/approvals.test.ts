/**
 * Deciding and timing out approvals on a Draft (src/engine/approvals.ts), table-driven:
 * quorum × votes so far × the vote × the approval's state, and on_timeout × due or not.
 */
import { describe, expect, test } from 'bun:test'
import { approvalIdOf, openApproval } from '../../src/engine/approval-record.ts'
import { timeOutApproval, voteOnApproval, type Vote } from '../../src/engine/approvals.ts'
import { Draft } from '../../src/engine/draft.ts'
import { cancelRun } from '../../src/engine/route.ts'
import { nextRunState, type ApprovalRecord, type RunState } from '../../src/engine/state.ts'
import { AobError } from '../../src/errors.ts'
import { runState } from '../helpers/fixtures.ts'

const flow = (config: Record<string, unknown> = {}) => ({
  name: 'gate',
  nodes: [
    { id: 'gate', type: 'hitl', config: { prompt: 'ok?', ...config } },
    { id: 'yes', type: 'noop' },
    { id: 'no', type: 'noop' },
  ],
  edges: [
    { from: 'gate', to: 'yes', on: 'approve' },
    { from: 'gate', to: 'no', on: 'reject' },
  ],
})

/** A paused run whose gate waits on a fresh approval (opened as the coordinator would). */
function waiting(config: Record<string, unknown> = {}, now = new Date().toISOString()) {
  const base = runState(
    flow(config),
    { gate: { status: 'running', epoch: 1, attempts: 1, iteration: 1 } },
    { status: 'running', created_by: 'carol' }
  )
  const d = new Draft(base, () => now)
  const record = openApproval(d, 'gate', { prompt: 'ok?', data: { d: 1 } }) as ApprovalRecord
  const t = d.toTransition()
  return { state: nextRunState(base, t, t.events.length), record, t }
}

/** Applies `step` on a Draft of `state`; returns the next state, the transition, the result. */
async function step<T>(state: RunState, fn: (d: Draft) => Promise<T> | T) {
  const d = new Draft(state)
  const value = await fn(d)
  const t = d.toTransition()
  return { value, t, state: nextRunState(state, t, t.events.length) }
}

describe('opening an approval', () => {
  test('the node waits on a record built from its rules; the id follows from the activation', () => {
    const now = '2026-12-01T10:00:00.000Z'
    const { state, record, t } = waiting(
      { quorum: 2, approvers: ['ops'], timeout_ms: 60_000, on_timeout: 'approve' },
      now
    )
    expect(record).toMatchObject({
      id: approvalIdOf(state.run.id, 'gate', 1),
      status: 'pending',
      quorum: 2,
      approvers: ['ops'],
      on_timeout: 'approve',
      allow_self_approval: false,
      run_created_by: 'carol',
      created_at: now,
      timeout_at: '2026-12-01T10:01:00.000Z',
      data: { d: 1 },
      epoch: 1,
    })
    expect(state.nodes.gate.status).toBe('waiting')
    expect(state.nodes.gate.approval).toEqual(record)
    expect(t.approvals).toEqual([record])
    expect(t.events.map((e) => e.type)).toEqual(['approval_required'])
    expect(approvalIdOf(state.run.id, 'gate', 2)).not.toBe(record.id)
  })

  test('a report without a prompt opens nothing', () => {
    const base = runState(flow(), { gate: { status: 'running', epoch: 1, iteration: 1 } })
    const d = new Draft(base)
    expect(openApproval(d, 'gate', { data: 1 })).toBeNull()
    expect(openApproval(d, 'gate', ['prompt'])).toBeNull()
    expect(d.toTransition().approvals).toBeUndefined()
  })
})

type VoteRow = [
  quorum: number,
  before: Vote['decision'][],
  vote: Vote['decision'],
  expected: ApprovalRecord['status'],
  why: string,
]

const VOTES: VoteRow[] = [
  [1, [], 'approve', 'approved', 'one approval meets a quorum of one'],
  [1, [], 'reject', 'rejected', 'a reject rejects'],
  [2, [], 'approve', 'pending', 'one of two is not enough'],
  [2, ['approve'], 'approve', 'approved', 'the second distinct approval approves'],
  [2, [], 'reject', 'rejected', 'one reject rejects whatever the quorum'],
  [3, ['approve'], 'reject', 'rejected', 'even after approvals'],
  [3, ['approve', 'approve'], 'approve', 'approved', 'the third of three'],
]

describe('voting', () => {
  for (const [quorum, before, vote, expected, why] of VOTES) {
    test(`${why}: quorum ${quorum}, ${before.length} before, ${vote}`, async () => {
      let { state, record } = waiting({ quorum })
      for (const [i, decision] of before.entries())
        ({ state } = await step(state, (d) => voteOnApproval(d, record, `voter${i}`, { decision })))
      const last = await step(state, (d) =>
        voteOnApproval(d, record, 'final', { decision: vote, comment: 'c', data: { x: 1 } })
      )
      expect(last.value.status).toBe(expected)
      expect(last.value.votes.map((v) => v.by)).toEqual([
        ...before.map((_, i) => `voter${i}`),
        'final',
      ])
      const gate = last.state.nodes.gate
      if (expected === 'pending') {
        expect(gate.status).toBe('waiting')
        expect(gate.approval?.votes).toHaveLength(before.length + 1)
        expect(last.t.events.map((e) => e.type)).toEqual(['log'])
      } else {
        expect(gate.status).toBe('succeeded')
        expect(gate.approval).toBeUndefined()
        expect(gate.output).toMatchObject({
          decision: vote,
          decided_by: 'final',
          comment: 'c',
          data: { x: 1 },
        })
        expect(last.value).toMatchObject({ decided_by: 'final', decision: vote })
        expect(last.t.events.filter((e) => e.type === 'approval_decided')).toHaveLength(1)
        const next = vote === 'approve' ? 'yes' : 'no'
        expect(last.t.tasks.map((task) => task.node_id)).toEqual([next])
      }
      expect(last.t.approvals?.map((a) => a.status)).toEqual([expected])
    })
  }

  test('a principal votes once; a resolved, cancelled or superseded approval takes no vote', async () => {
    const open = waiting({ quorum: 2 })
    const once = await step(open.state, (d) =>
      voteOnApproval(d, open.record, 'alice', { decision: 'approve' })
    )
    await expect(
      step(once.state, (d) => voteOnApproval(d, open.record, 'alice', { decision: 'approve' }))
    ).rejects.toBeInstanceOf(AobError)

    const resolved = await step(open.state, (d) =>
      voteOnApproval(d, open.record, 'bob', { decision: 'reject' })
    )
    await expect(
      step(resolved.state, (d) => voteOnApproval(d, open.record, 'carl', { decision: 'approve' }))
    ).rejects.toThrow('no longer pending')

    const cancelled = await step(open.state, (d) => cancelRun(d))
    expect(cancelled.t.approvals?.map((a) => a.status)).toEqual(['cancelled'])
    expect(cancelled.state.nodes.gate.status).toBe('cancelled')
    await expect(
      step(cancelled.state, (d) => voteOnApproval(d, open.record, 'carl', { decision: 'approve' }))
    ).rejects.toThrow('no longer pending')

    // Another activation's approval (a loop ran the node again): this one no longer counts.
    const other = { ...open.record, id: approvalIdOf(open.state.run.id, 'gate', 9) }
    await expect(
      step(open.state, (d) => voteOnApproval(d, other, 'carl', { decision: 'approve' }))
    ).rejects.toThrow('no longer pending')
  })
})

describe('timing out', () => {
  const now = Date.parse('2026-12-01T10:00:00.000Z')
  for (const [onTimeout, status, decision, next] of [
    ['reject', 'succeeded', 'reject', 'no'],
    ['approve', 'succeeded', 'approve', 'yes'],
    ['fail', 'failed', null, null],
  ] as const) {
    test(`on_timeout ${onTimeout}: the node ${status}`, async () => {
      const { state, record } = waiting(
        { timeout_ms: 1_000, on_timeout: onTimeout },
        new Date(now).toISOString()
      )
      const early = await step(state, (d) => timeOutApproval(d, record, now + 999))
      expect(early.value).toBeNull()
      expect(early.t.events).toEqual([])
      const due = await step(state, (d) => timeOutApproval(d, record, now + 1_000))
      expect(due.value).toMatchObject({ status: 'timed_out', decided_by: 'timeout', decision })
      expect(due.state.nodes.gate.status).toBe(status)
      if (onTimeout === 'fail') expect(due.state.nodes.gate.error?.code).toBe('APPROVAL_TIMED_OUT')
      expect(due.t.tasks.map((t) => t.node_id)).toEqual(next ? [next] : [])
      // Once resolved, neither a late timer nor a vote changes anything.
      const again = await step(due.state, (d) => timeOutApproval(d, record, now + 5_000))
      expect(again.value).toBeNull()
      expect(again.t.events).toEqual([])
    })
  }

  test('an approval without timeout_ms never times out', async () => {
    const { state, record } = waiting()
    const res = await step(state, (d) => timeOutApproval(d, record, Date.now() + 365 * 86_400_000))
    expect(res.value).toBeNull()
  })
})

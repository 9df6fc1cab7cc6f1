/**
 * The pure engine (src/engine/route.ts), table-driven, no backend: a script of completions is
 * applied to a run's state transition by transition, as the coordinator would, and the node
 * statuses, dispatch order and run outcome are checked.
 */
import { describe, expect, test } from 'bun:test'
import { Draft } from '../../src/engine/draft.ts'
import { applyCompletion, cancelRun, resumeWaiting, startRun } from '../../src/engine/route.ts'
import { nextRunState, type RunState, type Transition } from '../../src/engine/state.ts'
import type { Outcome } from '../../src/model/messages.ts'
import { runState } from '../helpers/fixtures.ts'

type Step = { node: string; outcome?: Outcome; epoch?: 'stale'; expectApplied?: boolean }

interface Case {
  name: string
  workflow: { nodes: Record<string, unknown>[]; edges?: Record<string, unknown>[] }
  steps: Step[]
  /** Node ids in the order their tasks were dispatched (a node twice when it ran twice). */
  dispatched: string[]
  statuses: Record<string, string>
  run: string
  output?: Record<string, unknown>
}

const noop = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'noop', ...extra })
const done = (output: unknown = null) => ({ kind: 'done' as const, output })
const fail = (message = 'boom', retryable = false) => ({
  kind: 'fail' as const,
  error: { message, retryable },
})

async function step(
  state: RunState,
  fn: (d: Draft) => Promise<unknown> | unknown
): Promise<{ state: RunState; t: Transition; value: unknown }> {
  const d = new Draft(state)
  const value = await fn(d)
  const t = d.toTransition()
  return { state: nextRunState(state, t, t.events.length), t, value }
}

async function simulate(c: Case) {
  let { state, t } = await step(runState({ name: 'engine', ...c.workflow }), (d) => startRun(d))
  const dispatched = t.tasks.map((task) => task.node_id)
  for (const s of c.steps) {
    const node = state.nodes[s.node]
    const epoch = s.epoch === 'stale' ? node.epoch - 1 : node.epoch
    const res = await step(state, (d) =>
      applyCompletion(d, {
        run_id: state.run.id,
        node_id: s.node,
        epoch,
        outcome: s.outcome ?? done(),
      })
    )
    expect({ step: s, applied: res.value }).toEqual({ step: s, applied: s.expectApplied ?? true })
    state = res.state
    dispatched.push(...res.t.tasks.map((task) => task.node_id))
  }
  return { state, dispatched }
}

const CASES: Case[] = [
  {
    name: 'a chain runs in order; the run output is the leaf',
    workflow: {
      nodes: [noop('a'), noop('b'), noop('c')],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    },
    steps: [
      { node: 'a', outcome: done(1) },
      { node: 'b', outcome: done(2) },
      { node: 'c', outcome: done(3) },
    ],
    dispatched: ['a', 'b', 'c'],
    statuses: { a: 'succeeded', b: 'succeeded', c: 'succeeded' },
    run: 'succeeded',
    output: { c: 3 },
  },
  {
    name: 'a join waits for every incoming edge and runs once',
    workflow: {
      nodes: [noop('s'), noop('l'), noop('r'), noop('j')],
      edges: [
        { from: 's', to: 'l' },
        { from: 's', to: 'r' },
        { from: 'l', to: 'j' },
        { from: 'r', to: 'j' },
      ],
    },
    steps: [{ node: 's' }, { node: 'l' }, { node: 'r' }, { node: 'j', outcome: done('joined') }],
    dispatched: ['s', 'l', 'r', 'j'],
    statuses: { s: 'succeeded', l: 'succeeded', r: 'succeeded', j: 'succeeded' },
    run: 'succeeded',
    output: { j: 'joined' },
  },
  {
    name: 'a false when is a dead path; the skip passes on; a join with one token runs',
    workflow: {
      nodes: [noop('s'), noop('yes'), noop('no'), noop('after_no'), noop('j')],
      edges: [
        { from: 's', to: 'yes', when: 'nodes.s.output.v > 1' },
        { from: 's', to: 'no', when: 'nodes.s.output.v < 1' },
        { from: 'no', to: 'after_no' },
        { from: 'yes', to: 'j' },
        { from: 'after_no', to: 'j' },
      ],
    },
    steps: [{ node: 's', outcome: done({ v: 5 }) }, { node: 'yes' }, { node: 'j' }],
    dispatched: ['s', 'yes', 'j'],
    statuses: {
      s: 'succeeded',
      yes: 'succeeded',
      no: 'skipped',
      after_no: 'skipped',
      j: 'succeeded',
    },
    run: 'succeeded',
  },
  {
    name: 'a join whose every input is dead is skipped',
    workflow: {
      nodes: [noop('s'), noop('a'), noop('j')],
      edges: [
        { from: 's', to: 'a', when: 'false' },
        { from: 'a', to: 'j' },
      ],
    },
    steps: [{ node: 's', outcome: done('leaf') }],
    dispatched: ['s'],
    statuses: { s: 'succeeded', a: 'skipped', j: 'skipped' },
    run: 'succeeded',
    output: { s: 'leaf' },
  },
  {
    name: 'join: any fires on the first token',
    workflow: {
      nodes: [noop('s'), noop('fast'), noop('slow'), noop('j', { join: 'any' })],
      edges: [
        { from: 's', to: 'fast' },
        { from: 's', to: 'slow' },
        { from: 'fast', to: 'j' },
        { from: 'slow', to: 'j' },
      ],
    },
    steps: [{ node: 's' }, { node: 'fast' }, { node: 'j' }, { node: 'slow' }],
    dispatched: ['s', 'fast', 'slow', 'j'],
    statuses: { j: 'succeeded', slow: 'succeeded' },
    run: 'succeeded',
  },
  {
    name: 'a loop re-runs its region up to max_iterations, then counts as not taken',
    workflow: {
      nodes: [noop('a'), noop('b')],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a', max_iterations: 2 },
      ],
    },
    steps: [
      { node: 'a' },
      { node: 'b' },
      { node: 'a' },
      { node: 'b' },
      { node: 'a' },
      { node: 'b', outcome: done('last') },
    ],
    dispatched: ['a', 'b', 'a', 'b', 'a', 'b'],
    statuses: { a: 'succeeded', b: 'succeeded' },
    run: 'succeeded',
    output: { b: 'last' },
  },
  {
    name: 'a stale epoch and a duplicate change nothing',
    workflow: {
      nodes: [noop('a', { retry: { max_attempts: 2, backoff_ms: 1 } }), noop('b')],
      edges: [{ from: 'a', to: 'b' }],
    },
    steps: [
      { node: 'a', outcome: fail('flaky', true) },
      { node: 'a', epoch: 'stale', outcome: done('stale'), expectApplied: false },
      { node: 'a', outcome: done('fresh') },
      { node: 'a', outcome: done('dup'), expectApplied: false },
      { node: 'b' },
    ],
    dispatched: ['a', 'a', 'b'],
    statuses: { a: 'succeeded', b: 'succeeded' },
    run: 'succeeded',
  },
  {
    name: 'a failure with an error edge takes it and the run succeeds',
    workflow: {
      nodes: [noop('a'), noop('ok'), noop('handler')],
      edges: [
        { from: 'a', to: 'ok' },
        { from: 'a', to: 'handler', on: 'error' },
      ],
    },
    steps: [
      { node: 'a', outcome: fail() },
      { node: 'handler', outcome: done('handled') },
    ],
    dispatched: ['a', 'handler'],
    statuses: { a: 'failed', ok: 'skipped', handler: 'succeeded' },
    run: 'succeeded',
    output: { handler: 'handled' },
  },
  {
    name: 'a failure without an error edge fails the run once nothing is in flight',
    workflow: {
      nodes: [noop('s'), noop('bad'), noop('other')],
      edges: [
        { from: 's', to: 'bad' },
        { from: 's', to: 'other' },
      ],
    },
    steps: [{ node: 's' }, { node: 'bad', outcome: fail() }, { node: 'other' }],
    dispatched: ['s', 'bad', 'other'],
    statuses: { bad: 'failed', other: 'succeeded' },
    run: 'failed',
  },
  {
    name: 'retryable failures are retried up to max_attempts; a terminal one is not',
    workflow: {
      nodes: [
        noop('r', { retry: { max_attempts: 3, backoff_ms: 1 } }),
        noop('t', { retry: { max_attempts: 3, backoff_ms: 1 } }),
      ],
      edges: [{ from: 'r', to: 't' }],
    },
    steps: [
      { node: 'r', outcome: fail('x', true) },
      { node: 'r', outcome: fail('x', true) },
      { node: 'r' },
      { node: 't', outcome: fail('final', false) },
    ],
    dispatched: ['r', 'r', 'r', 't'],
    statuses: { r: 'succeeded', t: 'failed' },
    run: 'failed',
  },
  {
    name: 'an unknown node type is skipped and passes the skip on',
    workflow: {
      nodes: [noop('a'), { id: 'x', type: 'future-type' }, noop('after')],
      edges: [
        { from: 'a', to: 'x' },
        { from: 'x', to: 'after' },
      ],
    },
    steps: [{ node: 'a', outcome: done('a') }],
    dispatched: ['a'],
    statuses: { a: 'succeeded', x: 'skipped', after: 'skipped' },
    run: 'succeeded',
  },
]

describe('the engine, one transition at a time', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const { state, dispatched } = await simulate(c)
      expect(dispatched).toEqual(c.dispatched)
      for (const [id, status] of Object.entries(c.statuses))
        expect({ id, status: state.nodes[id].status as string }).toEqual({ id, status })
      expect(state.run.status).toBe(c.run as any)
      if (c.output) expect(state.run.output).toEqual(c.output)
    })
  }

  test('wait: the node waits, the run pauses, and resuming it routes on', async () => {
    const c: Case = {
      name: 'wait',
      workflow: { nodes: [noop('h'), noop('next')], edges: [{ from: 'h', to: 'next' }] },
      steps: [{ node: 'h', outcome: { kind: 'wait', reason: 'a human decides' } }],
      dispatched: ['h'],
      statuses: { h: 'waiting' },
      run: 'paused',
    }
    const { state } = await simulate(c)
    expect(state.nodes.h.status).toBe('waiting')
    expect(state.run.status).toBe('paused')
    const stale = await step(state, (d) =>
      resumeWaiting(d, 'h', state.nodes.h.epoch - 1, done('no'))
    )
    expect(stale.value).toBe(false)
    const resumed = await step(state, (d) =>
      resumeWaiting(d, 'h', state.nodes.h.epoch, done({ decision: 'approve' }))
    )
    expect(resumed.value).toBe(true)
    expect(resumed.t.tasks.map((t) => t.node_id)).toEqual(['next'])
    expect(resumed.state.nodes.h.status).toBe('succeeded')
    expect(resumed.state.run.status).toBe('running')
    // A completion signal for a waiting node is not a resolution.
    const signal = await step(state, (d) =>
      applyCompletion(d, {
        run_id: state.run.id,
        node_id: 'h',
        epoch: state.nodes.h.epoch,
        outcome: done('x'),
      })
    )
    expect(signal.value).toBe(false)
  })

  test('cancel marks running and waiting nodes cancelled and refuses twice', async () => {
    const { state } = await simulate({
      name: 'c',
      workflow: {
        nodes: [noop('s'), noop('w'), noop('r')],
        edges: [
          { from: 's', to: 'w' },
          { from: 's', to: 'r' },
        ],
      },
      steps: [{ node: 's' }, { node: 'w', outcome: { kind: 'wait', reason: 'x' } }],
      dispatched: ['s', 'w', 'r'],
      statuses: {},
      run: 'running',
    })
    const res = await step(state, (d) => cancelRun(d, 'stop'))
    expect([res.state.nodes.w.status, res.state.nodes.r.status, res.state.run.status]).toEqual([
      'cancelled',
      'cancelled',
      'cancelled',
    ])
    expect(res.t.events.map((e) => e.type)).toEqual(['run_cancelled'])
    await expect(step(res.state, (d) => cancelRun(d))).rejects.toThrow('already cancelled')
  })
})

/**
 * Execution semantics (SPEC §3) through the API, the coordinator and real workers. Exported so
 * every backend runs the very same cases.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { TOPICS } from '../../src/ports/bus.ts'
import { RetryableError, ErrorCode } from '../../src/errors.ts'
import type { Handler } from '../../src/worker/run-worker.ts'
import type { TestPlatform } from '../helpers/kernel.ts'
import { waitFor } from '../helpers/wait-for.ts'

type Make = (opts: {
  handlers?: Record<string, Handler>
  visibilityMs?: number
}) => Promise<TestPlatform>

const noop = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'noop', ...extra })
const edge = (from: string, to: string, extra: Record<string, unknown> = {}) => ({
  from,
  to,
  ...extra,
})

export async function runToEnd(
  p: TestPlatform,
  workflow: unknown,
  input?: unknown,
  timeoutMs = 10_000
) {
  const created = await p.call('POST', '/runs', { workflow, input })
  expect({ status: created.status, body: created.status === 201 ? null : created.body }).toEqual({
    status: 201,
    body: null,
  })
  const id = created.body.run_id as string
  const run = await endOf(p, id, timeoutMs)
  const events = (await p.call('GET', `/runs/${id}/events`)).body.events as {
    seq: number
    type: string
    node_id?: string
    data: any
  }[]
  return { id, run, events }
}

/** Waits for the run to end and returns its view. */
export async function endOf(p: TestPlatform, id: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const r = await p.call('GET', `/runs/${id}`)
      return ['succeeded', 'failed', 'cancelled'].includes(r.body.status) ? r.body : null
    },
    timeoutMs,
    `run ${id} to end`
  )
}

export function semanticsContract(backend: string, make: Make) {
  describe(`execution semantics [${backend}]`, () => {
    let p: TestPlatform
    let calls: Record<string, number>
    /** Gates a noop with `output.gate` opens (its task waits until the test calls open()). */
    const gates = new Map<string, { opened: Promise<void>; open(): void }>()
    const gate = (prefix: string) => {
      const name = `${prefix}-${crypto.randomUUID()}`
      let open = () => {}
      const opened = new Promise<void>((r) => (open = r))
      gates.set(name, { opened, open })
      return { name, open }
    }
    const flaky: Handler = async (task) => {
      const out = task.config.output as any
      const key = String(out?.key ?? `${task.run_id}:${task.node_id}`)
      calls[key] = (calls[key] ?? 0) + 1
      const failTimes = Number(out && out.fail_times) || 0
      if (calls[key] <= failTimes)
        throw new RetryableError(ErrorCode.StepFailed, `planned failure ${calls[key]}`)
      if (out?.gate) await gates.get(out.gate)?.opened
      return task.config.output ?? null
    }
    beforeAll(async () => {
      calls = {}
      p = await make({ handlers: { noop: flaky } })
    })
    afterAll(() => p.close())

    test('a chain runs in order and the run output holds the leaf outputs', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'chain',
        nodes: [
          noop('a', { config: { output: 1 } }),
          noop('b', { config: { output: '{{ nodes.a.output + 1 }}' } }),
          noop('c', { config: { output: '{{ nodes.b.output * 10 }}' } }),
        ],
        edges: [edge('a', 'b'), edge('b', 'c')],
      })
      expect(run.status).toBe('succeeded')
      expect(run.output).toEqual({ c: 20 })
      const completed = events.filter((e) => e.type === 'node_completed').map((e) => e.node_id)
      expect(completed).toEqual(['a', 'b', 'c'])
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
      expect(events[0].type).toBe('run_started')
      expect(events.at(-1)?.type).toBe('run_completed')
    })

    test('when: only edges whose expression is true are taken; the others become dead paths', async () => {
      const { run } = await runToEnd(
        p,
        {
          name: 'branch',
          nodes: [
            noop('a', { config: { output: { v: 7 } } }),
            noop('big'),
            noop('small'),
            noop('after_small'),
          ],
          edges: [
            edge('a', 'big', { when: 'nodes.a.output.v > 5' }),
            edge('a', 'small', { when: 'nodes.a.output.v <= 5' }),
            edge('small', 'after_small'),
          ],
        },
        { x: 1 }
      )
      expect(run.nodes.big.status).toBe('succeeded')
      expect(run.nodes.small.status).toBe('skipped')
      expect(run.nodes.after_small.status).toBe('skipped')
      expect(run.status).toBe('succeeded')
    })

    test('join waits for every incoming edge and runs once when one token arrived (dead-path elimination)', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'join',
        nodes: [
          noop('s', { config: { output: 1 } }),
          noop('l'),
          { id: 'slow', type: 'sleep', config: { ms: 50 } },
          noop('r'),
          noop('j'),
        ],
        edges: [
          edge('s', 'l'),
          edge('s', 'slow'),
          edge('slow', 'r', { when: 'false' }),
          edge('l', 'j'),
          edge('r', 'j'),
        ],
      })
      expect(run.nodes.r.status).toBe('skipped')
      expect(run.nodes.j.status).toBe('succeeded')
      expect(events.filter((e) => e.type === 'node_started' && e.node_id === 'j')).toHaveLength(1)
      const jStart = events.find((e) => e.type === 'node_started' && e.node_id === 'j')!.seq
      const slowDone = events.find((e) => e.type === 'node_completed' && e.node_id === 'slow')!.seq
      expect(jStart).toBeGreaterThan(slowDone)
    })

    test('a join whose inputs are all dead is skipped and passes the skip on', async () => {
      const { run } = await runToEnd(p, {
        name: 'dead-join',
        nodes: [noop('s'), noop('a'), noop('b'), noop('j'), noop('after')],
        edges: [
          edge('s', 'a', { when: 'false' }),
          edge('s', 'b', { when: 'false' }),
          edge('a', 'j'),
          edge('b', 'j'),
          edge('j', 'after'),
        ],
      })
      expect(run.nodes.j.status).toBe('skipped')
      expect(run.nodes.after.status).toBe('skipped')
      expect(run.status).toBe('succeeded')
    })

    test('join "any" fires on the first token and only once', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'join-any',
        nodes: [
          noop('s'),
          noop('fast'),
          { id: 'slow', type: 'sleep', config: { ms: 150 } },
          noop('j', { join: 'any' }),
        ],
        edges: [edge('s', 'fast'), edge('s', 'slow'), edge('fast', 'j'), edge('slow', 'j')],
      })
      expect(run.status).toBe('succeeded')
      const jStart = events.find((e) => e.type === 'node_started' && e.node_id === 'j')!.seq
      const slowDone = events.find((e) => e.type === 'node_completed' && e.node_id === 'slow')!.seq
      expect(jStart).toBeLessThan(slowDone)
      expect(events.filter((e) => e.type === 'node_started' && e.node_id === 'j')).toHaveLength(1)
    })

    test('a loop edge is taken at most max_iterations times', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'loop',
        nodes: [noop('a'), noop('body'), noop('exit')],
        edges: [
          edge('a', 'body'),
          edge('body', 'body', { max_iterations: 3 }),
          edge('body', 'exit'),
        ],
      })
      expect(run.status).toBe('succeeded')
      expect(
        events.filter((e) => e.type === 'node_completed' && e.node_id === 'body')
      ).toHaveLength(4)
      expect(run.nodes.body.iteration).toBe(4)
      expect(run.nodes.exit.status).toBe('succeeded')
      expect(
        events.filter((e) => e.type === 'node_completed' && e.node_id === 'exit')
      ).toHaveLength(1)
    })

    test('a loop exits through its condition before the bound', async () => {
      const { run } = await runToEnd(p, {
        name: 'loop-cond',
        nodes: [
          {
            id: 'count',
            type: 'transform',
            config: {
              input: '{{ nodes.count.output ? nodes.count.output : 0 }}',
              pipeline: [{ op: 'transform', expr: '$ + 1' }],
            },
          },
          noop('done', { config: { output: '{{ nodes.count.output }}' } }),
        ],
        edges: [
          edge('count', 'count', { when: 'nodes.count.output < 5', max_iterations: 100 }),
          edge('count', 'done', { when: 'nodes.count.output >= 5' }),
        ],
      })
      expect(run.output).toEqual({ done: 5 })
      expect(run.nodes.count.iteration).toBe(5)
    })

    test('a failing node retries with backoff and then succeeds', async () => {
      const started = Date.now()
      const { run, events } = await runToEnd(p, {
        name: 'retry',
        nodes: [
          noop('f', {
            config: { output: { fail_times: 2 } },
            retry: { max_attempts: 3, backoff_ms: 100 },
          }),
        ],
      })
      expect(run.status).toBe('succeeded')
      expect(run.nodes.f.attempts).toBe(3)
      expect(Date.now() - started).toBeGreaterThanOrEqual(300) // 100 + 200 ms of backoff
      expect(
        events.filter((e) => e.type === 'log' && String(e.data.message).includes('retrying'))
      ).toHaveLength(2)
    })

    test('a node failing after its retries fails the run', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'fail',
        nodes: [
          noop('f', {
            config: { output: { fail_times: 5 } },
            retry: { max_attempts: 2, backoff_ms: 10 },
          }),
          noop('next'),
        ],
        edges: [edge('f', 'next')],
      })
      expect(run.status).toBe('failed')
      expect(run.error.node_id).toBe('f')
      expect(run.nodes.f.status).toBe('failed')
      expect(run.nodes.f.attempts).toBe(2)
      expect(run.nodes.next.status).toBe('skipped')
      expect(events.at(-1)?.type).toBe('run_failed')
    })

    test('on: "error" edges handle a failure, and then the run does not fail', async () => {
      const { run } = await runToEnd(p, {
        name: 'on-error',
        nodes: [
          noop('f', { config: { output: { fail_times: 9 } } }),
          noop('ok'),
          noop('handler', { config: { output: '{{ nodes.f.status }}' } }),
        ],
        edges: [edge('f', 'ok'), edge('f', 'handler', { on: 'error' })],
      })
      expect(run.status).toBe('succeeded')
      expect(run.nodes.f.status).toBe('failed')
      expect(run.nodes.ok.status).toBe('skipped')
      expect(run.nodes.handler.output).toBe('failed')
    })

    test('a node over its timeout fails (and is retried)', async () => {
      const { run, events } = await runToEnd(p, {
        name: 'timeout',
        nodes: [
          {
            id: 's',
            type: 'sleep',
            config: { ms: 5_000 },
            timeout_ms: 50,
            retry: { max_attempts: 2, backoff_ms: 10 },
          },
        ],
      })
      expect(run.status).toBe('failed')
      expect(run.nodes.s.attempts).toBe(2)
      expect(run.nodes.s.error.message).toContain('timed out after 50 ms')
      expect(
        events.some((e) => e.type === 'log' && String(e.data.message).includes('retrying'))
      ).toBe(true)
    })

    test('unknown node types are skipped with a warning and their paths die', async () => {
      const created = await p.call('POST', '/workflows/validate', {
        name: 'unk',
        nodes: [noop('a'), { id: 'x', type: 'quantum' }],
        edges: [edge('a', 'x')],
      })
      expect(created.body.valid).toBe(true)
      expect(created.body.warnings[0].message).toContain('unknown node type "quantum"')
      const { run, events } = await runToEnd(p, {
        name: 'unk',
        nodes: [noop('a'), { id: 'x', type: 'quantum' }, noop('y')],
        edges: [edge('a', 'x'), edge('x', 'y')],
      })
      expect(run.status).toBe('succeeded')
      expect(run.nodes.x.status).toBe('skipped')
      expect(run.nodes.y.status).toBe('skipped')
      expect(
        events.find((e) => e.node_id === 'x' && e.type === 'node_skipped')?.data.reason
      ).toContain('unknown node type')
    })

    test('a transform pipeline sees $input, $nodes and $run', async () => {
      const { run } = await runToEnd(
        p,
        {
          name: 'transform-ctx',
          nodes: [
            noop('a', { config: { output: { k: 2 } } }),
            {
              id: 't',
              type: 'transform',
              config: {
                input: [1, 2, 3],
                pipeline: [
                  { op: 'transform', expr: '$map($, function($v) { $v * $nodes.a.output.k })' },
                  {
                    op: 'transform',
                    expr: "{ 'sum': $sum($), 'who': $input.who, 'run': $run.id }",
                  },
                ],
              },
            },
          ],
          edges: [edge('a', 't')],
        },
        { who: 'me' }
      )
      expect(run.nodes.t.output).toEqual({ sum: 12, who: 'me', run: run.run_id })
    })

    test('a transform step error fails the node at once, naming the step', async () => {
      const { run } = await runToEnd(p, {
        name: 'transform-err',
        nodes: [
          {
            id: 't',
            type: 'transform',
            retry: { max_attempts: 3, backoff_ms: 10 },
            config: {
              pipeline: [
                { op: 'transform', expr: '$' },
                { op: 'transform', expr: "$error('boom')" },
              ],
            },
          },
        ],
      })
      expect(run.status).toBe('failed')
      expect(run.nodes.t.attempts).toBe(1)
      expect(run.nodes.t.error.message).toContain('pipeline step 1 (transform) failed: boom')
    })

    test('cancel stops routing, marks in-flight nodes cancelled and the run cancelled', async () => {
      const created = await p.call('POST', '/runs', {
        workflow: {
          name: 'cancel',
          nodes: [{ id: 's', type: 'sleep', config: { ms: 300 } }, noop('after')],
          edges: [edge('s', 'after')],
        },
      })
      const id = created.body.run_id
      await waitFor(
        async () => (await p.call('GET', `/runs/${id}`)).body.nodes.s.status === 'running'
      )
      const cancelled = await p.call('POST', `/runs/${id}/cancel`, {}, OPERATOR_TOKEN)
      expect(cancelled.status).toBe(200)
      // The sleep's late completion arrives and is processed (the coordinator has finished
      // every completion), and it changed nothing.
      await waitFor(
        async () => (await p.kernel.bus.depth(TOPICS.tasks('sleep'), 'workers.sleep')) === 0,
        5_000,
        'the sleep task to finish'
      )
      await waitFor(
        async () => (await p.kernel.bus.depth(TOPICS.completions, 'coordinator')) === 0,
        5_000,
        'the coordinator to catch up'
      )
      const run = (await p.call('GET', `/runs/${id}`)).body
      expect(run.status).toBe('cancelled')
      expect(run.nodes.s.status).toBe('cancelled')
      expect(run.nodes.after.status).toBe('pending')
      const again = await p.call('POST', `/runs/${id}/cancel`, {})
      expect(again.status).toBe(409)
    })

    test('a duplicate or stale completion signal takes effect once, on a running run', async () => {
      // b fails once (retried under a new epoch) and its second attempt waits at a gate: while
      // it is running, the first attempt's epoch (stale) and a's (a duplicate) complete again.
      const { name: gateName, open } = gate('dup')
      const created = await p.call('POST', '/runs', {
        workflow: {
          name: 'dup',
          nodes: [
            noop('a', { config: { output: 'a' } }),
            noop('b', {
              retry: { max_attempts: 3, backoff_ms: 1 },
              config: { output: { key: gateName, fail_times: 1, gate: gateName } },
            }),
            noop('c'),
          ],
          edges: [edge('a', 'b'), edge('b', 'c')],
        },
      })
      const id = created.body.run_id
      const running = await waitFor(
        async () => {
          const s = await p.kernel.store.loadRun(id)
          return s?.nodes.b.status === 'running' && s.nodes.b.attempts === 2 ? s : null
        },
        5_000,
        'b to run its second attempt'
      )
      expect(running.run.status).toBe('running')
      await p.kernel.bus.publish(TOPICS.completions, {
        run_id: id,
        node_id: 'b',
        epoch: running.nodes.b.epoch - 1,
        outcome: { kind: 'done', output: 'stale' },
      })
      await p.kernel.bus.publish(TOPICS.completions, {
        run_id: id,
        node_id: 'a',
        epoch: running.nodes.a.epoch,
        outcome: { kind: 'done', output: 'again' },
      })
      // Completions of one run are applied in the order they were published: both signals are
      // routed before the genuine completion that opening the gate releases.
      open()
      const run = await endOf(p, id)
      expect(run.nodes.a.output).toBe('a')
      expect(run.nodes.b.output).toEqual({ key: gateName, fail_times: 1, gate: gateName })
      const events = (await p.call('GET', `/runs/${id}/events`)).body.events as {
        type: string
        node_id?: string
      }[]
      expect(events.filter((e) => e.type === 'node_completed').map((e) => e.node_id)).toEqual([
        'a',
        'b',
        'c',
      ])
      expect(events.filter((e) => e.type === 'node_started' && e.node_id === 'c')).toHaveLength(1)
    })

    test("the request lane: a worker asks for a patch and gets the coordinator's answer", async () => {
      const { name: gateName, open } = gate('lane')
      const created = await p.call('POST', '/runs', {
        workflow: {
          name: 'lane',
          nodes: [noop('hold', { config: { output: { gate: gateName } } }), noop('after')],
          edges: [edge('hold', 'after')],
        },
      })
      const id = created.body.run_id
      await waitFor(
        async () => (await p.call('GET', `/runs/${id}`)).body.nodes.hold.status === 'running'
      )
      const lanes = p.kernel.lanes
      const ok = await lanes.request(
        {
          id: crypto.randomUUID(),
          kind: 'patch',
          run_id: id,
          payload: {
            operations: [
              {
                op: 'add',
                path: '/nodes/-',
                value: { id: 'added', type: 'noop', config: { output: 'by request' } },
              },
              { op: 'add', path: '/edges/-', value: { from: 'hold', to: 'added' } },
            ],
            reason: 'asked by a worker',
          },
        },
        5_000
      )
      expect(ok).toMatchObject({ ok: true, value: { status: 'applied', ir_version: 2 } })
      const refused = await lanes.request(
        {
          id: crypto.randomUUID(),
          kind: 'patch',
          run_id: id,
          payload: {
            operations: [{ op: 'add', path: '/nodes/02', value: { id: 'x', type: 'noop' } }],
          },
        },
        5_000
      )
      expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_PATCH' } })
      const unknown = await lanes.request(
        {
          id: crypto.randomUUID(),
          kind: 'patch',
          run_id: 'run_0000000000000000000000000000',
          payload: { operations: [{ op: 'test', path: '/nodes/0/id', value: 'x' }] },
        },
        5_000
      )
      expect(unknown).toMatchObject({ ok: false, error: { code: 'RUN_NOT_FOUND' } })
      open()
      const run = await endOf(p, id)
      expect(run.nodes.added.output).toBe('by request')
      expect(run.patches.map((x: any) => [x.status, x.reason])).toEqual([
        ['applied', 'asked by a worker'],
      ])
    })

    test('malformed messages are acked and dropped; the consumers keep working', async () => {
      for (const junk of [
        null,
        'text',
        [1, 2],
        { run_id: 'nope' },
        { run_id: 'run_0000000000000000000000000000', node_id: 'a', epoch: 'x', outcome: {} },
        {
          run_id: 'run_0000000000000000000000000000',
          node_id: 'a',
          epoch: 1,
          outcome: { kind: 'explode' },
        },
      ]) {
        await p.kernel.bus.publish(TOPICS.completions, junk)
        await p.kernel.bus.publish(TOPICS.requests, junk)
        await p.kernel.bus.publish(TOPICS.tasks('noop'), junk)
      }
      await waitFor(
        async () =>
          (await p.kernel.bus.depth(TOPICS.completions, 'coordinator')) === 0 &&
          (await p.kernel.bus.depth(TOPICS.requests, 'coordinator')) === 0 &&
          (await p.kernel.bus.depth(TOPICS.tasks('noop'), 'workers.noop')) === 0,
        5_000,
        'the junk to be dropped'
      )
      const { run } = await runToEnd(p, {
        name: 'after-junk',
        nodes: [noop('a', { config: { output: 1 } })],
      })
      expect(run.status).toBe('succeeded')
    })

    test('a patch on a running run takes effect at the next routing decision', async () => {
      const created = await p.call('POST', '/runs', {
        workflow: {
          name: 'patch-live',
          nodes: [{ id: 'wait', type: 'sleep', config: { ms: 300 } }, noop('old')],
          edges: [edge('wait', 'old')],
        },
      })
      const id = created.body.run_id
      const patched = await p.call(
        'POST',
        `/runs/${id}/patch`,
        {
          operations: [
            {
              op: 'add',
              path: '/nodes/-',
              value: { id: 'added', type: 'noop', config: { output: 'new path' } },
            },
            { op: 'replace', path: '/edges/0/to', value: 'added' },
          ],
          reason: 'reroute',
        },
        OPERATOR_TOKEN
      )
      expect(patched.status).toBe(200)
      expect(patched.body.ir_version).toBe(2)
      const run = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${id}`)).body
        return r.status === 'succeeded' ? r : null
      })
      expect(run.nodes.added.status).toBe('succeeded')
      expect(run.nodes.old.status).toBe('pending')
      expect(run.ir_version).toBe(2)
      expect(run.patches).toHaveLength(1)
    })

    test('replay from a node keeps the upstream outputs and runs the node and its descendants again', async () => {
      const wf = {
        name: 'replay',
        nodes: [
          noop('a', { config: { output: '{{ $random() }}' } }),
          noop('b', { config: { output: '{{ $random() }}' } }),
          noop('c', { config: { output: '{{ $random() }}' } }),
        ],
        edges: [edge('a', 'b'), edge('b', 'c')],
      }
      const first = await runToEnd(p, wf)
      const replay = await p.call('POST', `/runs/${first.id}/replay`, { from: 'b' }, OPERATOR_TOKEN)
      expect(replay.status).toBe(201)
      expect(replay.body.replay_of).toBe(first.id)
      const second = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${replay.body.run_id}`)).body
        return r.status === 'succeeded' ? r : null
      })
      expect(second.nodes.a.output).toBe(first.run.nodes.a.output)
      expect(second.nodes.b.output).not.toBe(first.run.nodes.b.output)
      expect(second.nodes.c.output).not.toBe(first.run.nodes.c.output)
      expect(second.replay_of).toBe(first.id)
    })

    test('outputs over 64 KiB live in the CAS: referenced, resolved on request, read downstream', async () => {
      const { id, run, events } = await runToEnd(p, {
        name: 'big-output',
        nodes: [
          {
            id: 'big',
            type: 'transform',
            config: {
              pipeline: [{ op: 'transform', expr: '$join([1..7000].("0123456789"), "")' }],
            },
          },
          noop('size', { config: { output: '{{ $length(nodes.big.output) }}' } }),
          noop('tail', { config: { output: '{{ nodes.big.output }}' } }),
        ],
        edges: [
          { from: 'big', to: 'size' },
          { from: 'big', to: 'tail' },
        ],
      })
      expect(run.status).toBe('succeeded')
      expect(run.nodes.size.output).toBe(70_000)
      expect(run.nodes.big.output).toBeNull()
      expect(run.nodes.big.output_ref).toMatch(/^cas:sha256:[0-9a-f]{64}$/)
      expect(run.nodes.tail.output_ref).toBe(run.nodes.big.output_ref) // same content, same address
      expect(run.output.tail).toEqual({ output_ref: run.nodes.big.output_ref })
      const completed = events.find((e) => e.type === 'node_completed' && e.node_id === 'big')!
      expect(completed.data.output).toBeUndefined()
      expect(completed.data.output_ref).toBe(run.nodes.big.output_ref)
      const resolved = (await p.call('GET', `/runs/${id}?resolve=true`)).body
      expect(resolved.nodes.big.output).toHaveLength(70_000)
      expect(resolved.output.tail).toHaveLength(70_000)
    })

    test('a run whose creator died between commit and dispatch is dispatched by the sweep', async () => {
      // What POST /runs commits, without the dispatch that would follow it (the API died).
      const { Draft, newNodeState } = await import('../../src/engine/draft.ts')
      const { startRun } = await import('../../src/engine/route.ts')
      const { runRecord } = await import('../helpers/fixtures.ts')
      const run = runRecord(
        { name: 'orphan', nodes: [noop('a', { config: { output: 'dispatched by the sweep' } })] },
        { workflow_id: 'wf_00000000000000aa' }
      )
      const nodes = { a: newNodeState() }
      const d = new Draft({ run, nodes })
      await startRun(d)
      const first = d.toTransition()
      first.dispatchPending = true
      await p.kernel.store.createRun({ run, nodes }, first)
      const done = await waitFor(
        async () => {
          const r = (await p.call('GET', `/runs/${run.id}`)).body
          return r.status === 'succeeded' ? r : null
        },
        15_000,
        'the sweep to dispatch the orphaned run'
      )
      expect(done.output).toEqual({ a: 'dispatched by the sweep' })
      expect(await p.kernel.store.listDispatchPending(0)).not.toContain(run.id)
    })

    test('replay without from re-runs the failed nodes', async () => {
      const { id, run } = await runToEnd(p, {
        name: 'replay-failed',
        nodes: [
          noop('a', { config: { output: 'kept' } }),
          noop('f', { config: { output: { fail_times: 1, key: `replay-${Math.random()}` } } }),
          noop('after'),
        ],
        edges: [edge('a', 'f'), edge('f', 'after')],
      })
      expect(run.status).toBe('failed')
      const replay = await p.call('POST', `/runs/${id}/replay`, {}, OPERATOR_TOKEN)
      const second = await waitFor(async () => {
        const r = (await p.call('GET', `/runs/${replay.body.run_id}`)).body
        return ['succeeded', 'failed'].includes(r.status) ? r : null
      })
      expect(second.status).toBe('succeeded')
      expect(second.nodes.a.output).toBe('kept')
      expect(second.nodes.after.status).toBe('succeeded')
    })
  })
}

const OPERATOR_TOKEN = 'operator-token-0001'

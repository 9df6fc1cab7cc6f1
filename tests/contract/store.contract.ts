/** The Store port's contract: every adapter runs these cases. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { newNodeState } from '../../src/engine/draft.ts'
import type { RunRecord, Transition } from '../../src/engine/state.ts'
import type { RunId } from '../../src/ids.ts'
import { compileWorkflow } from '../../src/model/ir.ts'
import type { Store } from '../../src/ports/store.ts'
import { runRecord } from '../helpers/fixtures.ts'

const WF = {
  name: 'c',
  nodes: [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  edges: [{ from: 'a', to: 'b' }],
}

const newRun = (extra: Partial<RunRecord> = {}): RunRecord =>
  runRecord(WF, { input: { x: 1 }, ...extra })

const start = (): Transition => ({
  run: { status: 'running' },
  nodes: { a: { ...newNodeState(), status: 'running', epoch: 1 } },
  events: [
    { type: 'run_started', data: {} },
    { type: 'node_started', node_id: 'a', data: {} },
  ],
  tasks: [],
})
const nodes = () => ({ a: newNodeState(), b: newNodeState() })

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e) => e.code
  )
}

export function storeContract(name: string, make: () => Promise<Store>) {
  describe(`Store contract [${name}]`, () => {
    let store: Store
    beforeAll(async () => {
      store = await make()
    })
    afterAll(() => store.close())

    test('workflows are stored once by id', async () => {
      const wf = {
        id: `wf_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`,
        name: 'same-name',
        document: { a: 1 },
        created_at: new Date().toISOString(),
      }
      expect(await store.putWorkflow(wf)).toEqual({ created: true })
      expect(await store.putWorkflow({ ...wf, document: { a: 2 } })).toEqual({ created: false })
      expect((await store.getWorkflow(wf.id))?.document).toEqual({ a: 1 })
      expect(
        (await store.listWorkflows({ limit: 10, name: 'same-name' })).map((w) => w.id)
      ).toContain(wf.id)
      expect(await store.getWorkflow('wf_ffffffffffffffff')).toBeNull()
    })

    test('tags move, keep their history, and compare-and-swap', async () => {
      const tag = `t-${crypto.randomUUID().slice(0, 8)}`
      const m1 = await store.moveTag(tag, 'wf_0000000000000001', null)
      expect(m1.previous_id).toBeNull()
      expect(await codeOf(store.moveTag(tag, 'wf_0000000000000002', null))).toBe('TAG_CONFLICT')
      expect(await codeOf(store.moveTag(tag, 'wf_0000000000000002', 'wf_0000000000000009'))).toBe(
        'TAG_CONFLICT'
      )
      expect((await store.getTag(tag))?.workflow_id).toBe('wf_0000000000000001')
      const m2 = await store.moveTag(tag, 'wf_0000000000000002', 'wf_0000000000000001')
      expect(m2.previous_id).toBe('wf_0000000000000001')
      await store.moveTag(tag, 'wf_0000000000000002')
      const history = await store.tagHistory(tag)
      expect(history.map((h) => h.workflow_id)).toEqual([
        'wf_0000000000000002',
        'wf_0000000000000001',
      ])
      expect((await store.listTags()).find((t) => t.name === tag)?.workflow_id).toBe(
        'wf_0000000000000002'
      )
    })

    test('concurrent compare-and-swap moves: exactly one wins', async () => {
      const tag = `race-${crypto.randomUUID().slice(0, 8)}`
      await store.moveTag(tag, 'wf_0000000000000001')
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          store.moveTag(tag, `wf_000000000000001${i}`, 'wf_0000000000000001')
        )
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      expect(await store.tagHistory(tag)).toHaveLength(2)
    })

    test('the completion ledger: a node activation completes exactly once, even at the current version', async () => {
      const run = newRun()
      await store.createRun({ run, nodes: nodes() }, start())
      const done = (epoch: number): Transition => ({
        run: {},
        nodes: { a: { ...newNodeState(), status: 'succeeded', epoch, iteration: 1 } },
        events: [{ type: 'node_completed', node_id: 'a', data: { iteration: 1, epoch } }],
        tasks: [],
      })
      await store.commitTransition((await store.loadRun(run.id))!.run, done(1))
      const before = (await store.loadRun(run.id))!
      expect(await codeOf(store.commitTransition(before.run, done(1)))).toBe('COMPLETION_RECORDED')
      // Another epoch of the same activation is the same completion too.
      expect(await codeOf(store.commitTransition(before.run, done(2)))).toBe('COMPLETION_RECORDED')
      const after = (await store.loadRun(run.id))!
      expect(after.run.version).toBe(before.run.version)
      expect(
        (await store.readEvents(run.id, 0, 100)).filter((e) => e.type === 'node_completed')
      ).toHaveLength(1)
      // The next activation (a loop) completes once more.
      const again: Transition = {
        run: {},
        nodes: { a: { ...newNodeState(), status: 'succeeded', epoch: 3, iteration: 2 } },
        events: [{ type: 'node_completed', node_id: 'a', data: { iteration: 2, epoch: 3 } }],
        tasks: [],
      }
      await store.commitTransition(after.run, again)
      expect(
        (await store.readEvents(run.id, 0, 100)).filter((e) => e.type === 'node_completed')
      ).toHaveLength(2)
    })

    test('createRun stores the run, its nodes and the first events numbered from 1', async () => {
      const run = newRun()
      const res = await store.createRun({ run, nodes: nodes() }, start())
      expect(res.created).toBe(true)
      expect(res.events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'run_started'],
        [2, 'node_started'],
      ])
      const state = await store.loadRun(run.id)
      expect(state?.run.status).toBe('running')
      expect(state?.run.version).toBe(1)
      expect(state?.run.last_seq).toBe(2)
      expect(state?.nodes.a.status).toBe('running')
      expect(state?.nodes.b.status).toBe('pending')
    })

    test('the same idempotency key returns the first run and writes nothing', async () => {
      const key = `k-${crypto.randomUUID()}`
      const first = await store.createRun(
        { run: newRun({ idempotency_key: key }), nodes: nodes() },
        start()
      )
      const second = await store.createRun(
        { run: newRun({ idempotency_key: key }), nodes: nodes() },
        start()
      )
      expect(second.created).toBe(false)
      expect(second.run.id).toBe(first.run.id)
      expect(await store.readEvents(first.run.id, 0, 100)).toHaveLength(2)
    })

    test('commits number events with no gaps and refuse a stale version, writing nothing', async () => {
      const run = newRun()
      await store.createRun({ run, nodes: nodes() }, start())
      const t: Transition = {
        run: {},
        nodes: { a: { ...newNodeState(), status: 'succeeded', output: 1 } },
        events: [{ type: 'node_completed', node_id: 'a', data: { output: 1 } }],
        tasks: [],
      }
      const base = (await store.loadRun(run.id))!.run
      const events = await store.commitTransition(base, t)
      expect(events.map((e) => e.seq)).toEqual([3])
      expect(
        await codeOf(
          store.commitTransition(base, {
            ...t,
            nodes: { b: { ...newNodeState(), status: 'failed' } },
          })
        )
      ).toBe('VERSION_CONFLICT')
      const state = await store.loadRun(run.id)
      expect(state?.nodes.b.status).toBe('pending')
      expect(state?.run.last_seq).toBe(3)
      expect((await store.readEvents(run.id, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3])
      expect((await store.readEvents(run.id, 1, 1)).map((e) => e.seq)).toEqual([2])
    })

    test('concurrent commits at one version: exactly one applies', async () => {
      const run = newRun()
      await store.createRun({ run, nodes: nodes() }, start())
      const base = (await store.loadRun(run.id))!.run
      const attempts = Array.from({ length: 6 }, (_, i) =>
        store.commitTransition(base, {
          run: {},
          nodes: {},
          events: [{ type: 'log', data: { i } }],
          tasks: [],
        })
      )
      const results = await Promise.allSettled(attempts)
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      expect((await store.readEvents(run.id, 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3])
    })

    test('commits of many runs at once apply or are refused each on its own', async () => {
      // Issued together, so a store that commits them in one call (Postgres) gets them in one.
      const made = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const run = newRun()
          await store.createRun({ run, nodes: nodes() }, start())
          return (await store.loadRun(run.id))!.run
        })
      )
      const [fresh, stale, twice, other, last] = made
      const done = (i: number): Transition => ({
        run: {},
        nodes: { a: { ...newNodeState(), status: 'succeeded', epoch: 1, iteration: 1, output: i } },
        events: [{ type: 'node_completed', node_id: 'a', data: { output: i } }],
        tasks: [],
      })
      await store.commitTransition(stale, { ...done(0), nodes: {} })
      await store.commitTransition(twice, done(0))
      const missing = { ...newRun(), version: 1, last_seq: 2 }
      const outcomes = await Promise.all(
        [
          store.commitTransition(fresh, done(1)),
          store.commitTransition(stale, done(2)),
          store.commitTransition(missing, done(3)),
          store.commitTransition(other, done(4)),
        ].map(codeOf)
      )
      expect(outcomes).toEqual(['no error', 'VERSION_CONFLICT', 'RUN_NOT_FOUND', 'no error'])
      // One item the ledger refuses does not fail the others of its call.
      const again = (await store.loadRun(twice.id))!.run
      const ledger = await Promise.all(
        [
          store.commitTransition((await store.loadRun(fresh.id))!.run, { ...done(7), nodes: {} }),
          store.commitTransition(again, done(5)),
          store.commitTransition(last, done(6)),
        ].map(codeOf)
      )
      expect(ledger).toEqual(['no error', 'COMPLETION_RECORDED', 'no error'])
      for (const [run, output, seqs] of [
        [fresh, 1, [1, 2, 3, 4]],
        [stale, null, [1, 2, 3]],
        [twice, 0, [1, 2, 3]],
        [other, 4, [1, 2, 3]],
        [last, 6, [1, 2, 3]],
      ] as const) {
        const state = (await store.loadRun(run.id))!
        expect(state.nodes.a.output ?? null).toBe(output)
        expect(state.run.version).toBe(seqs.length - 1)
        expect((await store.readEvents(run.id, 0, 100)).map((e) => e.seq)).toEqual([...seqs])
      }
      expect(await store.loadRun(missing.id)).toBeNull()
    })

    test('node states can be removed; patches are recorded and updated', async () => {
      const run = newRun()
      await store.createRun({ run, nodes: nodes() }, start())
      const patch = {
        id: `pat_${crypto.randomUUID()}`,
        run_id: run.id,
        status: 'pending' as const,
        operations: [{ op: 'remove', path: '/nodes/1' }],
        reason: null,
        submitted_by: null,
        decided_by: null,
        ir_version: null,
        created_at: new Date().toISOString(),
        decided_at: null,
      }
      await store.commitTransition((await store.loadRun(run.id))!.run, {
        run: {},
        nodes: { b: null },
        events: [],
        tasks: [],
        patch,
      })
      const doc2 = { name: 'c', nodes: [{ id: 'a', type: 'noop' }] }
      const change = { ir_version: 2, document: doc2 as any, ir: compileWorkflow(doc2 as any) }
      await store.commitTransition((await store.loadRun(run.id))!.run, {
        run: change,
        nodes: {},
        events: [],
        tasks: [],
        patch: { ...patch, status: 'applied', ir_version: 2 },
      })
      const state = await store.loadRun(run.id)
      expect(Object.keys(state!.nodes)).toEqual(['a'])
      expect(state!.run.ir_version).toBe(2)
      expect(Object.keys(state!.run.ir.nodes)).toEqual(['a'])
      expect(state!.run.document.nodes).toHaveLength(1)
      expect((await store.getPatch(patch.id))?.status).toBe('applied')
      expect((await store.listPatches(run.id)).map((p) => p.id)).toEqual([patch.id])
    })

    test('blobs are stored once by ref and read back', async () => {
      const ref = `cas:sha256:${crypto.randomUUID().replaceAll('-', '')}`
      await store.putBlob(ref, '{"big":true}')
      await store.putBlob(ref, '{"other":true}')
      expect(await store.getBlob(ref)).toBe('{"big":true}')
      expect(await store.getBlob('cas:sha256:missing')).toBeNull()
    })

    test('a dispatch recorded as pending is listed once old enough, until cleared', async () => {
      const run = newRun()
      await store.createRun({ run, nodes: nodes() }, { ...start(), dispatchPending: true })
      const other = newRun()
      await store.createRun({ run: other, nodes: nodes() }, start())
      expect(await store.listDispatchPending(60_000)).not.toContain(run.id)
      await Bun.sleep(20)
      const pending = await store.listDispatchPending(10)
      expect(pending).toContain(run.id)
      expect(pending).not.toContain(other.id)
      await store.clearDispatchPending(run.id)
      expect(await store.listDispatchPending(0)).not.toContain(run.id)
      await store.commitTransition((await store.loadRun(other.id))!.run, {
        run: {},
        nodes: {},
        events: [],
        tasks: [],
        dispatchPending: true,
      })
      await Bun.sleep(20)
      expect(await store.listDispatchPending(10)).toContain(other.id)
    })

    test('runs list newest first with filters and a cursor; active runs are listed', async () => {
      const wf = `wf_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
      const ids: RunId[] = []
      for (let i = 0; i < 5; i++) {
        const run = newRun({ workflow_id: wf })
        ids.push(run.id)
        await store.createRun(
          { run, nodes: nodes() },
          i === 4 ? { ...start(), run: { status: 'succeeded' } } : start()
        )
      }
      const page1 = await store.listRuns({ workflow_id: wf, limit: 2 })
      expect(page1.map((r) => r.id)).toEqual([ids[4], ids[3]])
      const page2 = await store.listRuns({ workflow_id: wf, limit: 2, before: page1[1].id })
      expect(page2.map((r) => r.id)).toEqual([ids[2], ids[1]])
      expect(
        (await store.listRuns({ workflow_id: wf, status: 'succeeded', limit: 10 })).map((r) => r.id)
      ).toEqual([ids[4]])
      const active = await store.listActiveRuns()
      expect(active).toContain(ids[0])
      expect(active).not.toContain(ids[4])
      expect(await store.loadRun('run_00000000000000000000000000ff' as RunId)).toBeNull()
    })
  })
}

import { describe, expect, test } from 'bun:test'
import { Draft, newNodeState } from '../../src/engine/draft.ts'
import { patchDocument, patchRun } from '../../src/engine/patch.ts'
import type { NodeStatus, RunState } from '../../src/engine/state.ts'
import { AobError } from '../../src/errors.ts'
import type { Workflow } from '../../src/model/workflow.ts'
import { runState } from '../helpers/fixtures.ts'

const doc = (): Workflow => ({
  name: 'p',
  nodes: [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  edges: [{ from: 'a', to: 'b' }],
})

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    return (e as AobError).code
  }
  return 'no error'
}

function state(statuses: Record<string, string>, policy?: 'approve'): RunState {
  const document = { ...doc(), ...(policy ? { patch_policy: policy } : {}) } as Workflow
  const nodes = Object.fromEntries(
    Object.entries(statuses).map(([id, status]) => [
      id,
      { status: status as NodeStatus, iteration: status === 'pending' ? 0 : 1 },
    ])
  )
  return runState(document, nodes, { status: 'running', version: 1 })
}

describe('patch operations are checked before they are applied', () => {
  test('only the six RFC 6902 ops', () => {
    expect(codeOf(() => patchDocument(doc(), [{ op: 'merge', path: '/nodes/0', value: {} }]))).toBe(
      'INVALID_PATCH'
    )
    expect(codeOf(() => patchDocument(doc(), [{ op: '_get', path: '/nodes/0' }]))).toBe(
      'INVALID_PATCH'
    )
  })
  test('paths only under /nodes and /edges, including move/copy sources', () => {
    expect(codeOf(() => patchDocument(doc(), [{ op: 'replace', path: '/name', value: 'x' }]))).toBe(
      'INVALID_PATCH'
    )
    expect(
      codeOf(() => patchDocument(doc(), [{ op: 'copy', from: '/name', path: '/nodes/0/id' }]))
    ).toBe('INVALID_PATCH')
    expect(codeOf(() => patchDocument(doc(), [{ op: 'add', path: '', value: {} }]))).toBe(
      'INVALID_PATCH'
    )
  })
  test('prototype pollution is refused and leaves Object.prototype alone', () => {
    expect(
      codeOf(() =>
        patchDocument(doc(), [{ op: 'add', path: '/nodes/0/__proto__/polluted', value: 1 }])
      )
    ).toBe('INVALID_PATCH')
    expect(
      codeOf(() =>
        patchDocument(doc(), [
          { op: 'add', path: '/nodes/constructor/prototype/polluted', value: 1 },
        ])
      )
    ).toBe('INVALID_PATCH')
    expect(({} as any).polluted).toBeUndefined()
  })
  test('a cap on the number of operations', () => {
    const ops = Array.from({ length: 101 }, () => ({ op: 'test', path: '/nodes/0/id', value: 'a' }))
    const err = (() => {
      try {
        patchDocument(doc(), ops)
      } catch (e) {
        return e as AobError
      }
    })()
    expect(err?.code).toBe('INVALID_PATCH')
    expect(err?.details[0].message).toContain('at most 100')
  })
  test('a cap on the patched document size', () => {
    const ops = [
      {
        op: 'add',
        path: '/nodes/-',
        value: { id: 'big', type: 'noop', config: { output: 'x'.repeat(1024 * 1024) } },
      },
    ]
    expect(codeOf(() => patchDocument(doc(), ops))).toBe('INVALID_PATCH')
  })
  test('the result must validate: no dangling edge, no unbounded cycle', () => {
    expect(
      codeOf(() =>
        patchDocument(doc(), [{ op: 'add', path: '/edges/-', value: { from: 'b', to: 'nowhere' } }])
      )
    ).toBe('INVALID_PATCH')
    expect(
      codeOf(() =>
        patchDocument(doc(), [{ op: 'add', path: '/edges/-', value: { from: 'b', to: 'a' } }])
      )
    ).toBe('INVALID_PATCH')
    expect(
      patchDocument(doc(), [
        { op: 'add', path: '/edges/-', value: { from: 'b', to: 'a', max_iterations: 2 } },
      ]).edges
    ).toHaveLength(2)
  })
  test('a failing test op is a conflict; a missing path is invalid', () => {
    expect(
      codeOf(() => patchDocument(doc(), [{ op: 'test', path: '/nodes/0/id', value: 'zzz' }]))
    ).toBe('PATCH_CONFLICT')
    expect(codeOf(() => patchDocument(doc(), [{ op: 'remove', path: '/nodes/7' }]))).toBe(
      'INVALID_PATCH'
    )
  })
  test('the original document is never modified', () => {
    const original = doc()
    const before = JSON.stringify(original)
    patchDocument(original, [{ op: 'add', path: '/nodes/-', value: { id: 'c', type: 'noop' } }])
    expect(JSON.stringify(original)).toBe(before)
  })
})

describe('patching a run', () => {
  test('nodes that started may not be changed or removed', async () => {
    const d = new Draft(state({ a: 'succeeded', b: 'pending' }))
    const err = await patchRun(d, [
      { op: 'add', path: '/nodes/0/config', value: { output: 1 } },
    ]).catch((e) => e)
    expect(err.code).toBe('PATCH_CONFLICT')
    expect(err.details[0].message).toContain('"a" has started')
    const rm = await patchRun(new Draft(state({ a: 'running', b: 'pending' })), [
      { op: 'remove', path: '/edges/0' },
      { op: 'remove', path: '/nodes/0' },
    ]).catch((e) => e)
    expect(rm.details[0].message).toContain('cannot be removed')
  })
  test('pending nodes may change; the IR version rises and patch_applied is emitted', async () => {
    const d = new Draft(state({ a: 'running', b: 'pending' }))
    const rec = await patchRun(d, [{ op: 'add', path: '/nodes/1/config', value: { output: 5 } }], {
      reason: 'why',
    })
    expect(rec.status).toBe('applied')
    expect(d.run.ir_version).toBe(2)
    expect(d.run.ir.nodes.b.config).toEqual({ output: 5 })
    expect(d.events.map((e) => e.type)).toEqual(['patch_applied'])
  })
  test('under patch_policy "approve" a patch waits, changing nothing', async () => {
    const d = new Draft(state({ a: 'running', b: 'pending' }, 'approve'))
    const rec = await patchRun(d, [{ op: 'add', path: '/nodes/1/config', value: { output: 5 } }])
    expect(rec.status).toBe('pending')
    expect(d.run.ir_version).toBe(1)
    expect(d.events.map((e) => e.type)).toEqual(['patch_pending'])
  })
  test('finished runs cannot be patched', async () => {
    const s = state({ a: 'succeeded', b: 'succeeded' })
    s.run.status = 'succeeded'
    const err = await patchRun(new Draft(s), [
      { op: 'add', path: '/nodes/-', value: { id: 'c', type: 'noop' } },
    ]).catch((e) => e)
    expect(err.code).toBe('RUN_FINISHED')
  })
})

describe('RFC 6901 array indices', () => {
  const add = (path: string) => () =>
    patchDocument(doc(), [{ op: 'add', path, value: { id: 'c', type: 'noop' } }])
  test('indices that wrap, have leading zeros or are out of bounds are refused naming the operation', () => {
    for (const path of [
      '/nodes/4294967296',
      `/nodes/${'9'.repeat(10_000).slice(0, 1000)}`,
      '/nodes/02',
      '/nodes/3',
      '/nodes/-1',
      '/nodes/1e0',
      '/nodes/ 1',
    ]) {
      let err: AobError | null = null
      try {
        add(path)()
      } catch (e) {
        err = e as AobError
      }
      expect(err?.code).toBe('INVALID_PATCH')
      expect(err?.details[0].path).toBe('/operations/0/path')
    }
  })
  test('0, the end of the array and - are places to add; replace and remove need an existing index', () => {
    expect(add('/nodes/0')().nodes.map((n) => n.id)).toEqual(['c', 'a', 'b'])
    expect(add('/nodes/2')().nodes.map((n) => n.id)).toEqual(['a', 'b', 'c'])
    expect(add('/nodes/-')().nodes.map((n) => n.id)).toEqual(['a', 'b', 'c'])
    expect(
      codeOf(() =>
        patchDocument(doc(), [
          { op: 'replace', path: '/nodes/2', value: { id: 'c', type: 'noop' } },
        ])
      )
    ).toBe('INVALID_PATCH')
    expect(codeOf(() => patchDocument(doc(), [{ op: 'remove', path: '/edges/1' }]))).toBe(
      'INVALID_PATCH'
    )
    expect(
      codeOf(() => patchDocument(doc(), [{ op: 'move', from: '/nodes/5', path: '/nodes/0' }]))
    ).toBe('INVALID_PATCH')
  })
  test('each operation is checked against the document the earlier ones left', () => {
    const res = patchDocument(doc(), [
      { op: 'add', path: '/nodes/-', value: { id: 'c', type: 'noop' } },
      { op: 'replace', path: '/nodes/2/type', value: 'sleep' },
      { op: 'add', path: '/nodes/2/config', value: { ms: 1 } },
    ])
    expect(res.nodes[2]).toEqual({ id: 'c', type: 'sleep', config: { ms: 1 } })
  })
})

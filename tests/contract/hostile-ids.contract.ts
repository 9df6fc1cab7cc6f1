/**
 * Ids are user data: workflows whose node ids are `__proto__`, `constructor`, `toString`, …
 * (and whose data keys are those, numbers-as-strings and unicode) run exactly like any other,
 * on every backend. A property test over generated DAGs: every node runs once, in order, and
 * the run output holds exactly the leaves' outputs, computed through templates and `when`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import type { TestPlatform } from '../helpers/kernel.ts'
import { runToEnd } from './semantics.contract.ts'

export const HOSTILE_IDS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  '__defineGetter__',
  'isPrototypeOf',
  '0',
  '1',
  '007',
  '42',
  'a',
  'b-c',
  '_',
]
export const HOSTILE_KEYS = [...HOSTILE_IDS, 'ключ', '名前', 'ü', '🙂', '', 'a.b', 'a/b', '~1']

type Spec = { ids: string[]; edges: [number, number][]; key: string }

const specs = fc
  .uniqueArray(fc.constantFrom(...HOSTILE_IDS), { minLength: 2, maxLength: 6 })
  .chain((ids) =>
    fc.record({
      ids: fc.constant(ids),
      edges: fc.uniqueArray(
        fc.tuple(fc.nat(ids.length - 1), fc.nat(ids.length - 1)).filter(([a, b]) => a < b),
        { maxLength: 10, selector: ([a, b]) => `${a}-${b}` }
      ),
      key: fc.constantFrom(...HOSTILE_KEYS),
    })
  )

/** Each node's output: `{<key>: 1 + the sum of its predecessors' values}` (a start node: 1). */
function workflowOf(spec: Spec) {
  const preds = (i: number) => spec.edges.filter(([, b]) => b === i).map(([a]) => spec.ids[a])
  const q = (id: string) => `\`${id}\``
  const k = JSON.stringify(spec.key)
  return {
    name: 'hostile-ids',
    nodes: spec.ids.map((id, i) => {
      const sum = preds(i)
        .map((p) => `$lookup(nodes.${q(p)}.output, ${k})`)
        .join(' + ')
      return {
        id,
        type: 'noop',
        config: { output: { [spec.key]: `{{ 1${sum ? ` + ${sum}` : ''} }}` } },
      }
    }),
    edges: spec.edges.map(([a, b]) => ({
      from: spec.ids[a],
      to: spec.ids[b],
      when: `$lookup(nodes.${q(spec.ids[a])}.output, ${k}) > 0`,
    })),
  }
}

function expected(spec: Spec): Map<string, number> {
  const value = new Map<string, number>()
  spec.ids.forEach((id, i) => {
    const preds = spec.edges
      .filter(([, b]) => b === i)
      .map(([a]) => value.get(spec.ids[a]) as number)
    value.set(id, 1 + preds.reduce((s, v) => s + v, 0))
  })
  return value
}

export function hostileIdsContract(backend: string, make: () => Promise<TestPlatform>) {
  describe(`hostile ids [${backend}]`, () => {
    let p: TestPlatform
    beforeAll(async () => {
      p = await make()
    })
    afterAll(() => p.close())

    test('a node called __proto__ runs, and its successor too (the run does not end early)', async () => {
      const { run } = await runToEnd(p, {
        name: 'proto',
        nodes: [
          { id: '__proto__', type: 'noop', config: { output: 1 } },
          { id: 'next', type: 'noop', config: { output: '{{ nodes.`__proto__`.output + 1 }}' } },
        ],
        edges: [{ from: '__proto__', to: 'next' }],
      })
      expect(run.status).toBe('succeeded')
      expect(Object.entries(run.nodes).map(([id, n]: [string, any]) => [id, n.status])).toEqual([
        ['__proto__', 'succeeded'],
        ['next', 'succeeded'],
      ])
      expect(Object.entries(run.output)).toEqual([['next', 2]])
    })

    test('generated DAGs over hostile ids and keys run exactly as their plain twins', async () => {
      await fc.assert(
        fc.asyncProperty(specs, async (spec) => {
          const { run, events } = await runToEnd(p, workflowOf(spec))
          const want = expected(spec)
          expect(run.status).toBe('succeeded')
          const statuses = Object.entries(run.nodes)
            .map(([id, n]: [string, any]) => [id, n.status])
            .sort()
          expect(statuses).toEqual(spec.ids.map((id) => [id, 'succeeded']).sort())
          for (const id of spec.ids)
            expect(Object.entries(run.nodes[id].output)).toEqual([[spec.key, want.get(id)]])
          const leaves = spec.ids.filter((_, i) => !spec.edges.some(([a]) => a === i))
          expect(Object.keys(run.output).sort()).toEqual([...leaves].sort())
          for (const id of leaves)
            expect(Object.entries(run.output[id])).toEqual([[spec.key, want.get(id)]])
          const completed = events.filter((e) => e.type === 'node_completed').map((e) => e.node_id)
          expect([...completed].sort()).toEqual([...spec.ids].sort())
          for (const [a, b] of spec.edges)
            expect(completed.indexOf(spec.ids[a])).toBeLessThan(completed.indexOf(spec.ids[b]))
        }),
        { numRuns: 25 }
      )
    }, 120_000)
  })
}

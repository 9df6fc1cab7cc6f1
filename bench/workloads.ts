/** The benchmark workflows. */
import type { Workflow } from '../src/model/workflow.ts'

export function chain(n: number): Workflow {
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'noop' }))
  const edges = nodes.slice(1).map((node, i) => ({ from: `n${i}`, to: node.id }))
  return { name: `chain${n}`, nodes, edges }
}

export function fanout(n: number): Workflow {
  const mid = Array.from({ length: n }, (_, i) => ({ id: `p${i}`, type: 'noop' }))
  return {
    name: `fanout${n}`,
    nodes: [{ id: 'start', type: 'noop' }, ...mid, { id: 'join', type: 'noop' }],
    edges: [
      ...mid.map((m) => ({ from: 'start', to: m.id })),
      ...mid.map((m) => ({ from: m.id, to: 'join' })),
    ],
  }
}

/** chain10 with a `when` on every edge (inline expressions, evaluated by the coordinator). */
export function chainWhen(n: number): Workflow {
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'noop',
    config: { output: { v: i } },
  }))
  const edges = nodes
    .slice(1)
    .map((node, i) => ({ from: `n${i}`, to: node.id, when: `nodes.n${i}.output.v = ${i}` }))
  return { name: `chain${n}-when`, nodes, edges }
}

/** chain10 of transform nodes; `expr` decides whether the step runs inline or in the sandbox. */
export function chainTransform(n: number, expr: string, name: string): Workflow {
  const nodes = Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'transform',
    config: { input: { i }, pipeline: [{ op: 'transform', expr }] },
  }))
  const edges = nodes.slice(1).map((node, i) => ({ from: `n${i}`, to: node.id }))
  return { name, nodes, edges }
}

export const WORKLOADS: Record<
  string,
  { workflow: Workflow; nodes: number; chainLength?: number }
> = {
  chain10: { workflow: chain(10), nodes: 10, chainLength: 10 },
  fanout10: { workflow: fanout(10), nodes: 12 },
  'chain10-when': { workflow: chainWhen(10), nodes: 10, chainLength: 10 },
  'chain10-transform': {
    workflow: chainTransform(10, "{ 'v': $.i + $count($keys($nodes)) }", 'chain10-transform'),
    nodes: 10,
    chainLength: 10,
  },
  'chain10-sandboxed': {
    workflow: chainTransform(
      10,
      "{ 'v': $sum($map([1, 2, 3], function($x){ $x * $$.i })) }",
      'chain10-sandboxed'
    ),
    nodes: 10,
    chainLength: 10,
  },
}

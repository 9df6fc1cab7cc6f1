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
    edges: [...mid.map((m) => ({ from: 'start', to: m.id })), ...mid.map((m) => ({ from: m.id, to: 'join' }))],
  }
}

export const WORKLOADS: Record<string, { workflow: Workflow; nodes: number; chainLength?: number }> = {
  chain10: { workflow: chain(10), nodes: 10, chainLength: 10 },
  fanout10: { workflow: fanout(10), nodes: 12 },
}

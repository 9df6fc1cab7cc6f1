/**
 * The compiled form every backend routes with: nodes by id, edges with their role (loop or
 * not), incoming non-loop edges per node (join arity), and start nodes. Plain JSON, so a
 * backend can store it as one value.
 * @module
 */
import { dict, dictOf } from './dict.ts'
import type { Workflow } from './workflow.ts'

export interface IrNode {
  id: string
  type: string
  config: Record<string, unknown>
  retry: { max_attempts: number; backoff_ms: number; max_backoff_ms: number }
  timeout_ms?: number
  join: 'all' | 'any'
}

export interface IrEdge {
  /** `from->to`, unique within a workflow. */
  key: string
  from: string
  to: string
  when?: string
  on?: 'approve' | 'reject' | 'error'
  max_iterations?: number
  /** Edges with `max_iterations` are loop edges: they re-run a region and count in no join. */
  loop: boolean
}

export interface Ir {
  name: string
  nodes: Record<string, IrNode>
  edges: IrEdge[]
  /** Outgoing edge indexes per node. */
  out: Record<string, number[]>
  /** Incoming non-loop edge indexes per node (the join inputs). */
  in: Record<string, number[]>
  starts: string[]
  patch_policy: 'auto' | 'approve'
}

export const DEFAULT_RETRY = { max_attempts: 1, backoff_ms: 1_000, max_backoff_ms: 60_000 }

/** Compiles a validated document. */
export function compileWorkflow(wf: Workflow): Ir {
  const nodes = dict<IrNode>()
  const out = dict<number[]>()
  const incoming = dict<number[]>()
  for (const n of wf.nodes) {
    nodes[n.id] = {
      id: n.id,
      type: n.type,
      config: n.config ?? {},
      retry: { ...DEFAULT_RETRY, ...n.retry },
      timeout_ms: n.timeout_ms,
      join: n.join ?? 'all',
    }
    out[n.id] = []
    incoming[n.id] = []
  }
  const edges: IrEdge[] = (wf.edges ?? []).map((e, i) => {
    const edge: IrEdge = {
      key: `${e.from}->${e.to}`,
      from: e.from,
      to: e.to,
      loop: e.max_iterations !== undefined,
    }
    if (e.when !== undefined) edge.when = e.when
    if (e.on !== undefined) edge.on = e.on
    if (e.max_iterations !== undefined) edge.max_iterations = e.max_iterations
    out[e.from].push(i)
    if (!edge.loop) incoming[e.to].push(i)
    return edge
  })
  const starts = wf.nodes.filter((n) => incoming[n.id].length === 0).map((n) => n.id)
  return {
    name: wf.name,
    nodes,
    edges,
    out,
    in: incoming,
    starts,
    patch_policy: wf.patch_policy ?? 'auto',
  }
}

/** An IR read back from JSON, its id-keyed records made null-prototype again (see dict.ts). */
export function reviveIr(ir: Ir): Ir {
  return { ...ir, nodes: dictOf(ir.nodes), out: dictOf(ir.out), in: dictOf(ir.in) }
}

/** Nodes reachable from `root` over non-loop edges, `root` included. */
export function descendants(ir: Ir, roots: string[]): Set<string> {
  const seen = new Set<string>(roots)
  const queue = [...roots]
  while (queue.length) {
    const id = queue.pop() as string
    for (const i of ir.out[id] ?? []) {
      const e = ir.edges[i]
      if (!e.loop && !seen.has(e.to)) {
        seen.add(e.to)
        queue.push(e.to)
      }
    }
  }
  return seen
}

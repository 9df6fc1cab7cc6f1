/**
 * A copy-on-write view of a run's state while the engine computes one transition.
 * @module
 */
import { dict, dictOf } from '../model/dict.ts'
import type { Ir } from '../model/ir.ts'
import type { ExpressionContext, Task } from '../model/messages.ts'
import type {
  ApprovalRecord,
  NewEvent,
  NodeState,
  PatchRecord,
  RunRecord,
  RunState,
  Transition,
} from './state.ts'

export class Draft {
  readonly run: RunRecord
  readonly events: NewEvent[] = []
  readonly tasks: Task[] = []
  /** A patch record to store with this transition. */
  patch?: PatchRecord
  /** Approvals to store with this transition, by id (the last version of each). */
  private readonly approvals = new Map<string, ApprovalRecord>()
  private readonly changed = new Map<string, NodeState | null>()
  private readonly runChanges: Transition['run'] = {}
  /** The expression context, rebuilt only after a node may have changed. */
  private contextCache: ExpressionContext | null = null

  constructor(
    private readonly base: RunState,
    readonly now: () => string = () => new Date().toISOString()
  ) {
    this.run = { ...base.run, loops: { ...base.run.loops } }
  }

  get ir(): Ir {
    return this.run.ir
  }

  /** The node's current state, read only. */
  peek(id: string): NodeState | undefined {
    if (this.changed.has(id)) return this.changed.get(id) ?? undefined
    // RunState.nodes is always a null-prototype record: any id is a plain lookup.
    return this.base.nodes[id]
  }

  /** The node's state, writable; recorded as changed. */
  node(id: string): NodeState {
    // The caller may change what it gets: the context must be rebuilt before its next use.
    this.contextCache = null
    const current = this.peek(id)
    if (!current) throw new Error(`[aob] [engine] unknown node "${id}"`)
    if (this.changed.get(id) === current) return current
    const copy: NodeState = { ...current, arrivals: { ...current.arrivals } }
    this.changed.set(id, copy)
    return copy
  }

  putNode(id: string, state: NodeState | null): void {
    this.contextCache = null
    this.changed.set(id, state)
  }

  nodeIds(): string[] {
    const ids = new Set(Object.keys(this.base.nodes))
    for (const [id, s] of this.changed) {
      if (s === null) ids.delete(id)
      else ids.add(id)
    }
    return [...ids]
  }

  putApproval(record: ApprovalRecord): void {
    this.approvals.set(record.id, record)
  }

  setRun(changes: Transition['run']): void {
    Object.assign(this.run, changes)
    Object.assign(this.runChanges, changes)
  }

  emit(
    type: NewEvent['type'],
    node_id: string | undefined,
    data: Record<string, unknown> = {}
  ): void {
    const event: NewEvent = { type, data }
    if (node_id !== undefined) event.node_id = node_id
    this.events.push(event)
  }

  /** `{ input, nodes: {id: {output, status}}, run }`, shared by the calls until a node changes. */
  context(): ExpressionContext {
    if (this.contextCache) return this.contextCache
    const nodes: ExpressionContext['nodes'] = dict()
    for (const id of this.nodeIds()) {
      const n = this.peek(id) as NodeState
      nodes[id] = { output: n.output ?? null, status: n.status }
    }
    this.contextCache = {
      input: this.run.input,
      nodes,
      run: { id: this.run.id, workflow_id: this.run.workflow_id },
    }
    return this.contextCache
  }

  toTransition(): Transition {
    const loopsChanged = JSON.stringify(this.run.loops) !== JSON.stringify(this.base.run.loops)
    const run = loopsChanged ? { ...this.runChanges, loops: this.run.loops } : this.runChanges
    const t: Transition = {
      run,
      nodes: dictOf(this.changed),
      events: this.events,
      tasks: this.tasks,
    }
    if (this.patch) t.patch = this.patch
    if (this.approvals.size > 0) t.approvals = [...this.approvals.values()]
    return t
  }
}

/** A node state as newNodeState() makes it: nothing happened to the node yet. */
export function isFreshNode(n: NodeState): boolean {
  return (
    n.status === 'pending' &&
    n.epoch === 0 &&
    n.attempts === 0 &&
    n.iteration === 0 &&
    Object.keys(n).length === 5 &&
    Object.keys(n.arrivals).length === 0
  )
}

export function newNodeState(): NodeState {
  return { status: 'pending', epoch: 0, attempts: 0, iteration: 0, arrivals: {} }
}

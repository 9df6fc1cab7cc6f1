/**
 * Run state as every backend stores it, and the transition the engine computes from it.
 * A transition is applied atomically by `Store.commitTransition` (one SQL transaction or one
 * synchronous block), guarded by the run's `version`.
 * @module
 */
import type { ErrorData } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Ir } from '../model/ir.ts'
import { dictOf, own } from '../model/dict.ts'
import type { Task } from '../model/messages.ts'
import type { Workflow } from '../model/workflow.ts'

export const RunStatus = {
  Queued: 'queued',
  Running: 'running',
  Paused: 'paused',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
} as const
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus]

export const NodeStatus = {
  Pending: 'pending',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Skipped: 'skipped',
  Waiting: 'waiting',
  Cancelled: 'cancelled',
} as const
export type NodeStatus = (typeof NodeStatus)[keyof typeof NodeStatus]

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled']
export const isTerminalRun = (s: RunStatus): boolean => TERMINAL_RUN_STATUSES.includes(s)

export const EVENT_TYPES = [
  'run_started',
  'node_started',
  'node_completed',
  'node_failed',
  'node_skipped',
  'approval_required',
  'approval_decided',
  'patch_applied',
  'patch_pending',
  'patch_rejected',
  'agent_turn',
  'run_completed',
  'run_failed',
  'run_cancelled',
  'log',
] as const
export type EventType = (typeof EVENT_TYPES)[number]
export const TERMINAL_EVENT_TYPES: readonly EventType[] = [
  'run_completed',
  'run_failed',
  'run_cancelled',
]

export interface RunRecord {
  id: RunId
  workflow_id: string
  status: RunStatus
  input: unknown
  output: unknown
  error: (ErrorData & { node_id?: string }) | null
  /** The materialized document: the stored workflow plus every applied patch. */
  document: Workflow
  ir: Ir
  ir_version: number
  /** Times each loop edge (by key) was taken. */
  loops: Record<string, number>
  /** Patches waiting for a decision; like pending approvals, they keep a quiet run paused. */
  pending_patches: number
  /** Optimistic-concurrency version, bumped by every commit. */
  version: number
  last_seq: number
  idempotency_key: string | null
  replay_of: string | null
  /** The principal that created the run (SPEC §4); null for runs made before principals. */
  created_by: string | null
  trace_id: string
  created_at: string
  updated_at: string
  finished_at: string | null
}

export interface NodeState {
  status: NodeStatus
  /** Bumped by every dispatch; a completion must carry the current epoch to take effect. */
  epoch: number
  /** Attempts of the current activation. */
  attempts: number
  /** Activations so far (a loop re-run is a new activation). */
  iteration: number
  /** What each incoming non-loop edge (by key) delivered in this activation. */
  arrivals: Record<string, 'token' | 'dead'>
  output?: unknown
  /** Set when the output is over 64 KiB: it lives in the CAS under this ref (`cas:sha256:<hex>`). */
  output_ref?: string
  error?: ErrorData
  started_at?: string
  finished_at?: string
  /** Tokens this node sent on its outgoing edges when it last finished. */
  took?: number
  /** The pending approval of a waiting hitl node (its record, as in the approvals table). */
  approval?: ApprovalRecord
  /** An agent node's usage, over all its activations (SPEC §7). */
  usage?: NodeUsage
  /** Keys of the events an agent worker sent for the current activation (a resend counts once). */
  emitted?: string[]
  /** An agent's last tool-call decision, handed to its next task (SPEC §7 tool approvals). */
  resume?: ToolDecision
}

export interface ToolDecision {
  /** The call it decides (its place in the conversation). */
  key: string
  decision: Decision
  decided_by: string | null
  comment: string | null
  /** `{arguments}` when an approver replaced them. */
  data: unknown
}

export interface NodeUsage {
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  total_tokens: number
  llm_calls: number
  /** Agent executions its activations delegated to (delegate_to_agent). */
  delegations: number
}

export const APPROVAL_STATUSES = [
  'pending',
  'approved',
  'rejected',
  'timed_out',
  'cancelled',
] as const
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number]
export type Decision = 'approve' | 'reject'

export interface ApprovalVote {
  /** The principal's name. */
  by: string
  decision: Decision
  comment: string | null
  at: string
}

/** SPEC §4.1's approval, plus the rules it was created with. */
export interface ApprovalRecord {
  id: string
  run_id: RunId
  node_id: string
  /** The node's activation (from 1). */
  iteration: number
  /** The node's epoch while it waits: a decision resolves only that activation. */
  epoch: number
  prompt: string
  status: ApprovalStatus
  quorum: number
  votes: ApprovalVote[]
  decision: Decision | null
  decided_by: string | null
  comment: string | null
  /** While pending, the node's templated default; once resolved, the decision's data. */
  data: unknown
  created_at: string
  timeout_at: string | null
  decided_at: string | null
  /** Role and principal names; null: any operator or admin. */
  approvers: string[] | null
  allow_self_approval: boolean
  on_timeout: 'approve' | 'reject' | 'fail'
  /** The run's creator (who may not decide unless allow_self_approval). */
  run_created_by: string | null
}

export interface RunState {
  run: RunRecord
  /** By node id; always a null-prototype record (model/dict.ts), whoever built or loaded it. */
  nodes: Record<string, NodeState>
}

export interface NewEvent {
  type: EventType
  node_id?: string
  data: Record<string, unknown>
}

export interface RunEvent extends NewEvent {
  seq: number
  run_id: RunId
  ts: string
}

export interface PatchRecord {
  id: string
  run_id: RunId
  status: 'applied' | 'pending' | 'rejected'
  operations: unknown[]
  reason: string | null
  /** The principal that submitted the patch (an agent: `agent:<run_id>/<node_id>`). */
  submitted_by: string | null
  /** The principal that approved or rejected it (null when applied at once). */
  decided_by: string | null
  ir_version: number | null
  created_at: string
  decided_at: string | null
  /** Submitted by an agent after untrusted tool output entered its conversation (SPEC §7). */
  tainted?: boolean
  /** The request that submitted it (an agent's idempotency key): submitting again is a no-op. */
  request_id?: string
}

export interface Transition {
  run: Partial<
    Pick<
      RunRecord,
      | 'status'
      | 'output'
      | 'error'
      | 'document'
      | 'ir'
      | 'ir_version'
      | 'loops'
      | 'pending_patches'
      | 'finished_at'
    >
  >
  /** Changed node states; `null` removes a node (a patch removed it). */
  nodes: Record<string, NodeState | null>
  events: NewEvent[]
  tasks: Task[]
  patch?: PatchRecord
  /** Approvals created or changed by this transition (stored with it, atomically). */
  approvals?: ApprovalRecord[]
  /**
   * Record, in the same commit, that these tasks still have to be dispatched: if the process
   * dies before it dispatches them, a coordinator's sweep does (Store.listDispatchPending).
   */
  dispatchPending?: boolean
}

export function isEmptyTransition(t: Transition): boolean {
  return (
    Object.keys(t.run).length === 0 &&
    Object.keys(t.nodes).length === 0 &&
    t.events.length === 0 &&
    t.tasks.length === 0 &&
    !t.patch &&
    !t.approvals?.length
  )
}

/** The run record once `t` has committed on top of `run` with `eventCount` events. */
export function nextRunRecord(
  run: RunRecord,
  t: Transition,
  eventCount: number,
  now = new Date().toISOString()
): RunRecord {
  return {
    ...run,
    ...t.run,
    version: run.version + 1,
    last_seq: run.last_seq + eventCount,
    updated_at: now,
  }
}

/** The whole state once `t` has committed on top of `state`. */
export function nextRunState(state: RunState, t: Transition, eventCount: number): RunState {
  const nodes = dictOf(state.nodes)
  for (const [id, node] of Object.entries(t.nodes)) {
    if (node === null) delete nodes[id]
    else nodes[id] = node
  }
  return { run: nextRunRecord(state.run, t, eventCount), nodes }
}

/** A transition's events as stored: numbered from the run's `last_seq + 1`, with no gaps. */
export function numberEvents(
  run: Pick<RunRecord, 'id' | 'last_seq'>,
  events: NewEvent[],
  ts = new Date().toISOString()
): RunEvent[] {
  return events.map((e, i) => {
    const ev: RunEvent = {
      seq: run.last_seq + i + 1,
      run_id: run.id,
      type: e.type,
      ts,
      data: e.data,
    }
    if (e.node_id !== undefined) ev.node_id = e.node_id
    return ev
  })
}

/** Node statuses after which a node sends nothing more in this activation. */
export const FINISHED_NODE_STATUSES: readonly NodeStatus[] = [
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]

/** One row of the completion ledger: a node activation finished, committed at most once. */
export interface CompletionEntry {
  node_id: string
  iteration: number
  epoch: number
  status: 'succeeded' | 'failed'
}

/** The ledger entries a transition records (its node_completed and node_failed events). */
export function completionsOf(t: Transition): CompletionEntry[] {
  const out: CompletionEntry[] = []
  for (const e of t.events) {
    if ((e.type !== 'node_completed' && e.type !== 'node_failed') || e.node_id === undefined)
      continue
    const node = own(t.nodes, e.node_id) ?? undefined
    out.push({
      node_id: e.node_id,
      iteration: Number(e.data.iteration ?? node?.iteration ?? 0),
      epoch: Number(e.data.epoch ?? node?.epoch ?? 0),
      status: e.type === 'node_completed' ? 'succeeded' : 'failed',
    })
  }
  return out
}

/**
 * Run state as every backend stores it, and the transition the engine computes from it.
 * A transition is applied atomically by `Store.commitTransition` (one SQL transaction or one
 * synchronous block), guarded by the run's `version`.
 * @module
 */
import type { ErrorData } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Ir } from '../model/ir.ts'
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
  'run_completed',
  'run_failed',
  'run_cancelled',
  'log',
] as const
export type EventType = (typeof EVENT_TYPES)[number]
export const TERMINAL_EVENT_TYPES: readonly EventType[] = ['run_completed', 'run_failed', 'run_cancelled']

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
}

export interface RunState {
  run: RunRecord
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

/** A unit of work for the worker of `type`, published on `wf.tasks.<type>`. */
export interface Task {
  run_id: RunId
  node_id: string
  type: string
  epoch: number
  attempt: number
  iteration: number
  /** The node's config with every template rendered. */
  config: Record<string, unknown>
  timeout_ms?: number
  /** Expression context, for node types that evaluate expressions (transform). */
  context?: ExpressionContext
  trace_id: string
  /** Publish after this delay (retry backoff). */
  delay_ms?: number
}

export interface ExpressionContext {
  input: unknown
  nodes: Record<string, { output: unknown; status: NodeStatus }>
  run: { id: string; workflow_id: string }
}

export interface PatchRecord {
  id: string
  run_id: RunId
  status: 'applied' | 'pending' | 'rejected'
  operations: unknown[]
  reason: string | null
  ir_version: number | null
  created_at: string
  decided_at: string | null
}

export interface Transition {
  run: Partial<Pick<RunRecord, 'status' | 'output' | 'error' | 'document' | 'ir' | 'ir_version' | 'loops' | 'pending_patches' | 'finished_at'>>
  /** Changed node states; `null` removes a node (a patch removed it). */
  nodes: Record<string, NodeState | null>
  events: NewEvent[]
  tasks: Task[]
  patch?: PatchRecord
  /**
   * Record, in the same commit, that these tasks still have to be dispatched: if the process
   * dies before it dispatches them, a coordinator's sweep does (Store.listDispatchPending).
   */
  dispatchPending?: boolean
}

export function isEmptyTransition(t: Transition): boolean {
  return (
    Object.keys(t.run).length === 0 && Object.keys(t.nodes).length === 0 && t.events.length === 0 && t.tasks.length === 0 && !t.patch
  )
}

/**
 * The system of record: workflows, tags, runs with their node states, events and patches.
 * Datastore-agnostic: the embedded adapter uses bun:sqlite, the distributed one Postgres.
 * Every method is one atomic unit. Exposes no connection or transaction type.
 * @module
 */
import type { RunId } from '../ids.ts'
import type { ApiRecord } from '../model/openapi.ts'
import type { ToolRecord } from '../model/tool-record.ts'
import type {
  ApprovalRecord,
  ApprovalStatus,
  NodeState,
  PatchRecord,
  RunEvent,
  RunRecord,
  RunState,
  RunStatus,
  Transition,
} from '../engine/state.ts'

export interface StoredWorkflow {
  id: string
  name: string
  document: unknown
  created_at: string
}

export interface TagRecord {
  name: string
  workflow_id: string
  updated_at: string
}

export interface TagMove {
  name: string
  workflow_id: string
  previous_id: string | null
  moved_at: string
}

export interface RunFilter {
  status?: RunStatus
  workflow_id?: string
  limit: number
  /** Return runs created before this run id (exclusive). */
  before?: string
}

export interface ApprovalFilter {
  status?: ApprovalStatus
  run_id?: string
  limit: number
  /** Return approvals created before this approval id (exclusive). */
  before?: string
}

/** A pending approval whose timeout is due. */
export type DueApproval = Pick<ApprovalRecord, 'id' | 'run_id' | 'node_id'>

export interface NewRun {
  run: RunRecord
  nodes: Record<string, NodeState>
}

export interface Store {
  /** Stores a document under its content id; storing it again changes nothing. */
  putWorkflow(wf: StoredWorkflow): Promise<{ created: boolean }>
  getWorkflow(id: string): Promise<StoredWorkflow | null>
  listWorkflows(opts: { limit: number; name?: string }): Promise<StoredWorkflow[]>

  /**
   * Points tag `name` at `workflowId` and records the move. With `expect` given (a workflow id,
   * or null for "the tag must not exist"), the move is a compare-and-swap: throws
   * AobError(TAG_CONFLICT) when the tag points elsewhere. Moving a tag where it already points
   * records nothing and returns the current state.
   */
  moveTag(name: string, workflowId: string, expect?: string | null): Promise<TagMove>
  getTag(name: string): Promise<TagRecord | null>
  listTags(): Promise<TagRecord[]>
  tagHistory(name: string): Promise<TagMove[]>

  /**
   * Creates a run with its node states and applies its first transition (run_started and the
   * start nodes), all at once. With an idempotency key already used, creates nothing and
   * returns the existing run with `created: false`.
   */
  createRun(
    run: NewRun,
    first: Transition
  ): Promise<{ run: RunRecord; created: boolean; events: RunEvent[] }>
  loadRun(id: RunId): Promise<RunState | null>
  /**
   * Applies `t` on top of `base` (the run record it was computed from) if the run is still at
   * `base.version` (else AobError(VERSION_CONFLICT), nothing written): node states, run
   * fields, events numbered from last_seq + 1 with no gaps, and a patch record. Returns the
   * events with their seq.
   */
  commitTransition(base: RunRecord, t: Transition): Promise<RunEvent[]>
  listRuns(filter: RunFilter): Promise<RunRecord[]>
  /** Runs not in a terminal state (recovery after a restart). */
  listActiveRuns(): Promise<RunId[]>
  readEvents(id: RunId, after: number, limit: number): Promise<RunEvent[]>

  /** Runs whose dispatch was recorded as pending (Transition.dispatchPending) over `olderThanMs` ago. */
  listDispatchPending(olderThanMs: number): Promise<RunId[]>
  /** The pending dispatch of a run happened. */
  clearDispatchPending(id: RunId): Promise<void>

  listPatches(runId: RunId): Promise<PatchRecord[]>
  getPatch(id: string): Promise<PatchRecord | null>

  /** Approvals are written by commitTransition (Transition.approvals); these read them. */
  getApproval(id: string): Promise<ApprovalRecord | null>
  /** Newest first. */
  listApprovals(filter: ApprovalFilter): Promise<ApprovalRecord[]>
  /** Pending approvals whose timeout_at is at or before `nowMs`, earliest first. */
  listDueApprovals(nowMs: number, limit: number): Promise<DueApproval[]>

  /** Stores a new version of the tool named `tool.name` (1 for a new name); returns it. */
  putTool(tool: Omit<ToolRecord, 'version'>): Promise<ToolRecord>
  /** The newest version, or null. */
  getTool(name: string): Promise<ToolRecord | null>
  /** The newest version of every tool, by name. */
  listTools(): Promise<ToolRecord[]>
  /** Removes every version; false when there was none. */
  deleteTool(name: string): Promise<boolean>

  /** Registers (or replaces) the OpenAPI document named `api.name`. */
  putApi(api: ApiRecord): Promise<void>
  getApi(name: string): Promise<ApiRecord | null>
  listApis(): Promise<ApiRecord[]>
  deleteApi(name: string): Promise<boolean>

  /** Content-addressed blobs (large node outputs). Putting an existing ref changes nothing. */
  putBlob(ref: string, data: string): Promise<void>
  getBlob(ref: string): Promise<string | null>

  /** A cheap round trip, for /health. */
  ping(): Promise<void>
  close(): Promise<void>
}

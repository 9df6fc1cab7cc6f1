/**
 * Approvals (SPEC §4.1) as run state: a waiting hitl node holds its pending approval, and every
 * change of it is part of a run transition (the Draft stores the record with the commit), so the
 * node's state, the approval, its events and the run's status move together, once.
 * This module opens and closes records; deciding and timing out are in approvals.ts.
 * @module
 */
import * as v from 'valibot'
import { ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import { strictObject } from '../model/schema.ts'
import type { Draft } from './draft.ts'
import type { ApprovalRecord, ApprovalStatus, Decision } from './state.ts'

/**
 * An approval's id follows from the activation it belongs to, so a worker can name it (in its
 * notify webhook) before the coordinator has stored it, and a redelivered task names the same.
 */
export function approvalIdOf(
  runId: string,
  nodeId: string,
  iteration: number,
  /** Several approvals of one activation (an agent's tool calls) differ by this key. */
  key?: string
): string {
  const hex = new Bun.CryptoHasher('sha256')
    .update(`${runId}\u0000${nodeId}\u0000${iteration}${key === undefined ? '' : `\u0000${key}`}`)
    .digest('hex')
  return `apr_${hex.slice(0, 28)}`
}

export function isApprovalId(s: string): boolean {
  return /^apr_[0-9a-f]{28}$/.test(s)
}

/** What the hitl worker reports with its `wait` outcome: the rendered prompt and data. */
export const HitlWaitSchema = strictObject({
  prompt: v.pipe(v.string(), v.minLength(1), v.maxLength(65_536)),
  data: v.optional(v.unknown()),
  notify_error: v.optional(v.pipe(v.string(), v.maxLength(2_000))),
})
export type HitlWait = v.InferOutput<typeof HitlWaitSchema>

interface HitlRules {
  timeout_ms?: number
  on_timeout?: 'approve' | 'reject' | 'fail'
  approvers?: string[]
  quorum?: number
  allow_self_approval?: boolean
}

/**
 * The node becomes `waiting` on a new pending approval (with `approval_required`). Returns false
 * (and fails the node's wait) when the worker's report does not have the shape of one.
 */
export function openApproval(d: Draft, nodeId: string, report: unknown): ApprovalRecord | null {
  const parsed = v.safeParse(HitlWaitSchema, report)
  if (!parsed.success) return null
  return open(d, nodeId, parsed.output, d.ir.nodes[nodeId].config as HitlRules)
}

/** What an agent worker reports when a tool call of an `approve_tools` tool must be decided. */
export const ToolWaitSchema = strictObject({
  kind: v.literal('tool'),
  /** The call's place in the conversation (`<turn>:<path>`): names the approval. */
  key: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  tool: v.pipe(v.string(), v.maxLength(64)),
  arguments: v.unknown(),
})

/**
 * An agent node waits on the approval of one tool call (SPEC §7 tool approvals): the approval's
 * `data.arguments` shows the call, and an approver may replace them.
 */
export function openToolApproval(d: Draft, nodeId: string, report: unknown): ApprovalRecord | null {
  const parsed = v.safeParse(ToolWaitSchema, report)
  if (!parsed.success) return null
  const { key, tool } = parsed.output
  return open(
    d,
    nodeId,
    {
      prompt: `Agent node "${nodeId}" asks to call ${tool}. Approve to let it run (you may replace data.arguments), or reject with a comment the agent will read.`,
      data: { tool, arguments: parsed.output.arguments ?? null, call: key },
    },
    {},
    key
  )
}

function open(
  d: Draft,
  nodeId: string,
  report: HitlWait,
  rules: HitlRules,
  key?: string
): ApprovalRecord {
  const node = d.node(nodeId)
  const now = d.now()
  const record: ApprovalRecord = {
    id: approvalIdOf(d.run.id, nodeId, node.iteration, key),
    run_id: d.run.id as RunId,
    node_id: nodeId,
    iteration: node.iteration,
    epoch: node.epoch,
    prompt: report.prompt,
    status: 'pending',
    quorum: rules.quorum ?? 1,
    votes: [],
    decision: null,
    decided_by: null,
    comment: null,
    data: report.data ?? null,
    created_at: now,
    timeout_at:
      rules.timeout_ms !== undefined
        ? new Date(Date.parse(now) + rules.timeout_ms).toISOString()
        : null,
    decided_at: null,
    approvers: rules.approvers ?? null,
    allow_self_approval: rules.allow_self_approval ?? false,
    on_timeout: rules.on_timeout ?? 'reject',
    run_created_by: d.run.created_by ?? null,
  }
  node.status = 'waiting'
  node.approval = record
  d.putApproval(record)
  d.emit('approval_required', nodeId, {
    approval_id: record.id,
    prompt: record.prompt,
    timeout_at: record.timeout_at,
    quorum: record.quorum,
    approvers: record.approvers,
  })
  if (report.notify_error)
    d.emit('log', nodeId, {
      level: 'warn',
      message: `approval ${record.id}: notify failed: ${report.notify_error}`,
    })
  return record
}

/** The node's pending approval when it is `id`, else null (resolved, or another activation). */
export function pendingApproval(d: Draft, nodeId: string, id: string): ApprovalRecord | null {
  const node = d.peek(nodeId)
  const record = node?.approval
  if (!node || node.status !== 'waiting' || !record || record.id !== id) return null
  if (record.status !== 'pending' || record.epoch !== node.epoch) return null
  return record
}

/**
 * Closes the node's pending approval with `status` (the node's own state is the caller's) and
 * emits `approval_decided`. Returns the closed record.
 */
export function closeApproval(
  d: Draft,
  record: ApprovalRecord,
  close: {
    status: Exclude<ApprovalStatus, 'pending'>
    decision: Decision | null
    decided_by: string | null
    comment?: string | null
    data?: unknown
    votes?: ApprovalRecord['votes']
  }
): ApprovalRecord {
  const closed: ApprovalRecord = {
    ...record,
    status: close.status,
    decision: close.decision,
    decided_by: close.decided_by,
    comment: close.comment ?? null,
    data: close.data === undefined ? record.data : close.data,
    votes: close.votes ?? record.votes,
    decided_at: d.now(),
  }
  delete d.node(record.node_id).approval
  d.putApproval(closed)
  d.emit('approval_decided', record.node_id, {
    approval_id: closed.id,
    status: closed.status,
    decision: closed.decision,
    decided_by: closed.decided_by,
  })
  return closed
}

/** Cancelling the run cancels the node's pending approval (SPEC §4.1). */
export function cancelApproval(d: Draft, nodeId: string): void {
  const record = d.peek(nodeId)?.approval
  if (record?.status === 'pending')
    closeApproval(d, record, { status: 'cancelled', decision: null, decided_by: null })
}

/** The error a hitl node fails with when its approval timed out with `on_timeout: fail`. */
export const approvalTimedOut = (record: ApprovalRecord) => ({
  code: ErrorCode.ApprovalTimedOut,
  message: `approval ${record.id} timed out at ${record.timeout_at}`,
  retryable: false,
})

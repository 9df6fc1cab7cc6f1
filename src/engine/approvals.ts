/**
 * Deciding an approval and timing it out (SPEC §4.1), as run transitions over a Draft. Who may
 * vote is authz.ts's question, asked before; here: one vote per principal, one `reject`
 * rejects, `quorum` approvals approve, a due timeout applies `on_timeout`; whichever comes
 * first resolves the approval, and the others find it no longer pending.
 * @module
 */
import { AobError, ErrorCode } from '../errors.ts'
import { approvalTimedOut, closeApproval, pendingApproval } from './approval-record.ts'
import type { Draft } from './draft.ts'
import { resumeAgent, resumeWaiting } from './route.ts'
import type { ApprovalRecord, ApprovalVote, Decision } from './state.ts'

export interface Vote {
  decision: Decision
  comment?: string
  data?: unknown
}

type ApprovalRef = Pick<ApprovalRecord, 'id' | 'node_id'>

/**
 * Records `who`'s vote and resolves the approval when it rejects or completes the quorum.
 * Throws AobError(CONFLICT) when the approval is no longer pending or `who` voted already.
 */
export async function voteOnApproval(
  d: Draft,
  ref: ApprovalRef,
  who: string,
  vote: Vote
): Promise<ApprovalRecord> {
  const record = pendingApproval(d, ref.node_id, ref.id)
  if (!record) throw new AobError(ErrorCode.Conflict, `approval ${ref.id} is no longer pending`)
  if (record.votes.some((v) => v.by === who))
    throw new AobError(ErrorCode.Conflict, `${who} already voted on approval ${ref.id}`)
  const comment = vote.comment ?? null
  const votes: ApprovalVote[] = [
    ...record.votes,
    { by: who, decision: vote.decision, comment, at: d.now() },
  ]
  const approvals = votes.filter((v) => v.decision === 'approve').length
  if (vote.decision === 'reject' || approvals >= record.quorum) {
    return resolveWith(d, record, {
      status: vote.decision === 'reject' ? 'rejected' : 'approved',
      decision: vote.decision,
      decided_by: who,
      comment,
      data: vote.data ?? record.data,
      votes,
    })
  }
  const updated: ApprovalRecord = { ...record, votes }
  d.node(ref.node_id).approval = updated
  d.putApproval(updated)
  d.emit('log', ref.node_id, {
    level: 'info',
    message: `approval ${ref.id}: ${who} approved (${approvals} of ${record.quorum})`,
    approval_id: ref.id,
  })
  return updated
}

/**
 * Applies the approval's `on_timeout` if it is still pending and due at `nowMs`; returns the
 * resolved record, or null when there was nothing to do.
 */
export async function timeOutApproval(
  d: Draft,
  ref: ApprovalRef,
  nowMs = Date.now()
): Promise<ApprovalRecord | null> {
  const record = pendingApproval(d, ref.node_id, ref.id)
  if (!record?.timeout_at || Date.parse(record.timeout_at) > nowMs) return null
  const decision = record.on_timeout === 'fail' ? null : record.on_timeout
  return resolveWith(d, record, {
    status: 'timed_out',
    decision,
    decided_by: 'timeout',
    comment: null,
    data: record.data,
    votes: record.votes,
  })
}

async function resolveWith(
  d: Draft,
  record: ApprovalRecord,
  close: Parameters<typeof closeApproval>[2] & { votes: ApprovalVote[] }
): Promise<ApprovalRecord> {
  const closed = closeApproval(d, record, close)
  if (closed.decision !== null && d.ir.nodes[record.node_id]?.type === 'agent') {
    // A tool call's approval: the agent runs on with the decision (SPEC §7).
    await resumeAgent(d, record.node_id, record.epoch, {
      key: String((record.data as { call?: unknown } | null)?.call ?? ''),
      decision: closed.decision,
      decided_by: closed.decided_by,
      comment: closed.comment,
      data: closed.data,
    })
  } else if (closed.decision === null) {
    await resumeWaiting(d, record.node_id, record.epoch, {
      kind: 'fail',
      error: approvalTimedOut(record),
    })
  } else {
    await resumeWaiting(d, record.node_id, record.epoch, {
      kind: 'done',
      output: {
        decision: closed.decision,
        decided_by: closed.decided_by,
        comment: closed.comment,
        data: closed.data,
        votes: closed.votes,
      },
    })
  }
  return closed
}

/** The API's JSON shapes of runs and their nodes. @module */
import type { ApprovalRecord, PatchRecord, RunRecord, RunState } from '../engine/state.ts'
import { dict } from '../model/dict.ts'
import { runUsage } from '../engine/usage.ts'

export function runSummary(r: RunRecord) {
  return {
    run_id: r.id,
    workflow_id: r.workflow_id,
    status: r.status,
    created_at: r.created_at,
    updated_at: r.updated_at,
    finished_at: r.finished_at,
    replay_of: r.replay_of,
    created_by: r.created_by ?? null,
  }
}

/** A run as the API shows it; outputs kept in the CAS show as `output_ref` unless `resolve`. */
export function runView(
  state: RunState,
  patches: PatchRecord[],
  approvals: ApprovalRecord[],
  opts: { resolve?: boolean } = {}
) {
  const { run } = state
  const nodes = dict<unknown>()
  for (const id of Object.keys(run.ir.nodes)) {
    const n = state.nodes[id]
    if (!n) continue
    nodes[id] = {
      type: run.ir.nodes[id].type,
      status: n.status,
      attempts: n.attempts,
      iteration: n.iteration,
      started_at: n.started_at ?? null,
      finished_at: n.finished_at ?? null,
      output: n.output_ref && !opts.resolve ? null : (n.output ?? null),
      ...(n.output_ref ? { output_ref: n.output_ref } : {}),
      error: n.error ?? null,
      ...(n.usage ? { usage: n.usage } : {}),
    }
  }
  return {
    ...runSummary(run),
    input: run.input,
    output: run.output as unknown,
    error: run.error,
    ir_version: run.ir_version,
    last_seq: run.last_seq,
    idempotency_key: run.idempotency_key,
    trace_id: run.trace_id,
    /** The materialized document: the workflow with every applied patch (its graph, node configs). */
    document: run.document,
    nodes,
    approvals: approvals.map(approvalView),
    usage: runUsage(Object.values(state.nodes)),
    patches: patches.map(patchView),
  }
}

export function patchView(p: PatchRecord) {
  return {
    patch_id: p.id,
    run_id: p.run_id,
    status: p.status,
    operations: p.operations,
    reason: p.reason,
    submitted_by: p.submitted_by ?? null,
    decided_by: p.decided_by ?? null,
    ir_version: p.ir_version,
    created_at: p.created_at,
    decided_at: p.decided_at,
    tainted: p.tainted ?? false,
  }
}

/** SPEC §4.1's approval object (with the rules it was created with). */
export function approvalView(a: ApprovalRecord) {
  return {
    id: a.id,
    run_id: a.run_id,
    node_id: a.node_id,
    iteration: a.iteration,
    prompt: a.prompt,
    status: a.status,
    quorum: a.quorum,
    votes: a.votes,
    decision: a.decision,
    decided_by: a.decided_by,
    comment: a.comment,
    data: a.data,
    created_at: a.created_at,
    timeout_at: a.timeout_at,
    decided_at: a.decided_at,
    approvers: a.approvers,
    on_timeout: a.on_timeout,
    allow_self_approval: a.allow_self_approval,
  }
}

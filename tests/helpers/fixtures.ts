/** The one RunRecord fixture: a fresh, queued run of `document` (compiled), with overrides. */
import { newNodeState } from '../../src/engine/draft.ts'
import type { NodeState, RunRecord, RunState } from '../../src/engine/state.ts'
import { newRunId } from '../../src/ids.ts'
import { dictOf } from '../../src/model/dict.ts'
import { compileWorkflow } from '../../src/model/ir.ts'
import type { Workflow } from '../../src/model/workflow.ts'

export function runRecord(document: unknown, extra: Partial<RunRecord> = {}): RunRecord {
  const now = new Date().toISOString()
  const doc = document as Workflow
  return {
    id: newRunId(),
    workflow_id: 'wf_0000000000000001',
    status: 'queued',
    input: null,
    output: null,
    error: null,
    document: doc,
    ir: compileWorkflow(doc),
    ir_version: 1,
    loops: {},
    pending_patches: 0,
    version: 0,
    last_seq: 0,
    idempotency_key: null,
    replay_of: null,
    created_by: null,
    trace_id: 't',
    created_at: now,
    updated_at: now,
    finished_at: null,
    ...extra,
  }
}

/** A run state: the record and a node state per node (`statuses` overrides some). */
export function runState(
  document: unknown,
  statuses: Record<string, Partial<NodeState>> = {},
  extra: Partial<RunRecord> = {}
): RunState {
  const run = runRecord(document, extra)
  const nodes = dictOf(
    Object.keys(run.ir.nodes).map((id) => [id, { ...newNodeState(), ...statuses[id] }] as const)
  )
  return { run, nodes }
}

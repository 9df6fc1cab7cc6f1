/**
 * Creating a run (new or replay): the record, the node states and the first transition,
 * committed together, then the start tasks dispatched.
 * @module
 */
import { Draft, newNodeState } from '../engine/draft.ts'
import { replayRoots, startReplay } from '../engine/replay.ts'
import { startRun } from '../engine/route.ts'
import {
  isTerminalRun,
  nextRunState,
  type NodeState,
  type RunRecord,
  type RunState,
} from '../engine/state.ts'
import { newRunId, newTraceId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { compileWorkflow, type Ir } from '../model/ir.ts'
import type { Workflow } from '../model/workflow.ts'
import { announce, clearPending, count } from './transact.ts'
import { busOutlivesProcess } from './recover.ts'
import { handOverNewRun } from './new-run-handover.ts'
import { dict } from '../model/dict.ts'

export interface CreateRunOptions {
  workflowId: string
  document: Workflow
  /** The document's compiled IR, when the caller has it already. */
  ir?: Ir
  input: unknown
  idempotencyKey?: string
  /** The principal creating the run. */
  createdBy?: string
  /** The W3C trace the run belongs to (from the request's `traceparent`); else a new one. */
  traceId?: string
  replay?: { of: RunState; from?: string }
}

export async function createRun(
  kernel: Pick<Kernel, 'store' | 'lanes' | 'log' | 'state' | 'metrics' | 'bus' | 'config'>,
  opts: CreateRunOptions
): Promise<{ run: RunRecord; created: boolean }> {
  const now = new Date().toISOString()
  const run: RunRecord = {
    id: newRunId(),
    workflow_id: opts.workflowId,
    status: 'queued',
    input: opts.input ?? null,
    output: null,
    error: null,
    document: opts.document,
    // A run's IR is never changed in place (a patch makes a new one): runs of one workflow share it.
    ir: opts.ir ?? compileWorkflow(opts.document),
    ir_version: 1,
    loops: {},
    pending_patches: 0,
    version: 0,
    last_seq: 0,
    idempotency_key: opts.idempotencyKey ?? null,
    replay_of: opts.replay ? opts.replay.of.run.id : null,
    created_by: opts.createdBy ?? null,
    trace_id: opts.traceId ?? newTraceId(),
    created_at: now,
    updated_at: now,
    finished_at: null,
  }
  const nodes = dict<NodeState>()
  for (const id of Object.keys(run.ir.nodes)) nodes[id] = newNodeState()
  const draft = new Draft({ run, nodes })
  if (opts.replay)
    await startReplay(draft, opts.replay.of, replayRoots(opts.replay.of, opts.replay.from))
  else await startRun(draft)
  const first = draft.toTransition()
  first.dispatchPending = first.tasks.length > 0 && busOutlivesProcess(kernel)
  const res = await kernel.store.createRun({ run, nodes }, first)
  if (res.created) {
    // The run's first completion finds its state here (same process: aob dev) or handed over
    // (another process: a coordinator) and needs no read; a stale one is refused by the
    // version check like any other. Handed over before the tasks go out, on the same bus.
    const state = nextRunState({ run, nodes }, first, res.events.length)
    let handover: Promise<void> | undefined
    if (!isTerminalRun(state.run.status)) {
      kernel.state.runs.set(res.run.id, state)
      handover = handOverNewRun(kernel, state)
    }
    kernel.metrics.runs.inc({ status: 'created' })
    kernel.log.info(
      { run_id: run.id, trace_id: run.trace_id, workflow_id: run.workflow_id },
      'run created'
    )
    count(kernel, { run, nodes }, first, res.events)
    await announce(kernel, res.run.id, first.tasks, res.events)
    await handover
    if (first.dispatchPending) clearPending(kernel, res.run.id)
  }
  return { run: res.run, created: res.created }
}

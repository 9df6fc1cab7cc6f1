/**
 * A new run's state, handed by the process that created it (the API) to the process that routes
 * its first completion (a coordinator), through the bus: that first step then needs no read of
 * the store. The IR is not in it: the receiver has the workflow's, compiled once per process,
 * by the run's content-addressed workflow id. Only a hint, like every cached state: the
 * commit's version check refuses it if the run moved meanwhile, and a missing or unusable one
 * means a read of the store, as before.
 * @module
 */
import type { RunState } from '../engine/state.ts'
import type { Kernel } from '../kernel.ts'
import { dictOf } from '../model/dict.ts'
import { busOutlivesProcess } from './recover.ts'
import { runnableWorkflow } from './workflows.ts'

type HandoverKernel = Pick<Kernel, 'bus' | 'config' | 'store' | 'state' | 'log'>

const KEY = 'created'
/** Longer than a run's first tasks usually take; the hand-over is gone after it (a read then). */
const TTL_MS = 10 * 60_000

/** Leaves the state of a run just created for the process that routes its first completion. */
export async function handOverNewRun(kernel: HandoverKernel, state: RunState): Promise<void> {
  // One process (aob dev) keeps it in its own cache already; a replay's IR is not its workflow's.
  if (!busOutlivesProcess(kernel) || state.run.replay_of || state.run.ir_version !== 1) return
  const { document: _document, ir: _ir, ...run } = state.run
  await kernel.bus
    .putState(run.id, KEY, JSON.stringify({ run, nodes: state.nodes }), TTL_MS)
    .catch((e) => kernel.log.warn({ err: e, run_id: run.id }, 'could not hand over a new run'))
}

/** The state a creator left for this run, taken (no one else gets it), or null. */
export async function takeNewRun(kernel: HandoverKernel, runId: string): Promise<RunState | null> {
  if (!busOutlivesProcess(kernel)) return null
  try {
    const text = await kernel.bus.takeState(runId, KEY)
    if (!text) return null
    const { run, nodes } = JSON.parse(text) as { run: RunState['run']; nodes: RunState['nodes'] }
    const { workflow, ir } = await runnableWorkflow(kernel, run.workflow_id, kernel.config.limits)
    return { run: { ...run, document: workflow, ir }, nodes: dictOf(nodes) }
  } catch (e) {
    kernel.log.warn({ err: e, run_id: runId }, 'a handed-over run state was unusable; reading it')
    return null
  }
}

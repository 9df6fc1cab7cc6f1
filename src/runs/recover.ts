/**
 * Rebuilding the bus's in-flight work from the store, the system of record: after the bus lost
 * its queues (Redis restarted empty or flushed; the embedded bus at every start) and for a run
 * whose committed dispatch was never sent (its process died in between).
 * @module
 */
import { Draft } from '../engine/draft.ts'
import { taskFor } from '../engine/route.ts'
import { isTerminalRun, type RunState } from '../engine/state.ts'
import type { Kernel } from '../kernel.ts'
import { own } from '../model/dict.ts'

/**
 * Whether the bus outlives this process and is shared with others (Redis). The embedded bus
 * lives and dies with its one process and is rebuilt from the store at every start: nothing
 * needs recording for a rebuild (a pending dispatch), nor handing to another process.
 */
export function busOutlivesProcess(kernel: Pick<Kernel, 'config'>): boolean {
  return kernel.config.mode === 'distributed'
}

/**
 * When the bus is fresh, one caller (the first to claim it) re-dispatches every running node.
 * Every process that dispatches new work calls this before it does: a process that dispatched
 * into a fresh bus without claiming it would have its tasks dispatched twice by the claimer.
 */
export async function recoverIfBusFresh(kernel: Kernel): Promise<number> {
  return (await kernel.bus.claimFreshStart()) ? recoverRuns(kernel) : 0
}

/** Re-dispatches the current task of every running node of every active run. */
export async function recoverRuns(kernel: Kernel): Promise<number> {
  let count = 0
  for (const id of await kernel.store.listActiveRuns()) {
    const state = await kernel.store.loadRun(id)
    if (state) count += await redispatchRunning(kernel, state)
  }
  if (count) kernel.log.warn({ tasks: count }, 'recovered in-flight tasks of active runs')
  return count
}

/** Dispatches the current task of each running node of one run again (same epoch). */
export async function redispatchRunning(kernel: Kernel, state: RunState): Promise<number> {
  if (isTerminalRun(state.run.status)) return 0
  const draft = new Draft(state)
  let count = 0
  for (const [nodeId, node] of Object.entries(state.nodes)) {
    if (node.status !== 'running' || !own(state.run.ir.nodes, nodeId)) continue
    try {
      await kernel.lanes.dispatch(await taskFor(draft, nodeId))
      count++
    } catch (e) {
      kernel.log.error(
        { err: e, run_id: state.run.id, node_id: nodeId },
        'could not rebuild a task'
      )
    }
  }
  return count
}

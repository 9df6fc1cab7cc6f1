/**
 * One run transition end to end: load the state, let the engine compute a transition, commit it
 * if the run did not move meanwhile (else retry), then dispatch its tasks and announce its
 * events. Used by the API (cancel, patch) and the coordinator (completions) alike.
 *
 * The state each process committed last is kept (a bounded cache), so the next transition of
 * the run usually needs no read: the store's version check refuses a stale state (another
 * process moved the run), and a transition that would change nothing, or a refusal, is
 * recomputed on a fresh read before it is believed.
 * @module
 */
import { Draft } from '../engine/draft.ts'
import {
  isEmptyTransition,
  isTerminalRun,
  nextRunState,
  type RunEvent,
  type RunState,
  type Transition,
} from '../engine/state.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { own } from '../model/dict.ts'
import { takeNewRun } from './new-run-handover.ts'
import { busOutlivesProcess } from './recover.ts'
import type { Task } from '../model/messages.ts'

const MAX_ATTEMPTS = 20

export type TransactKernel = Pick<
  Kernel,
  'store' | 'lanes' | 'state' | 'log' | 'metrics' | 'bus' | 'config'
>

export interface TransactResult<T> {
  value: T
  events: RunEvent[]
  state: RunState
}

/**
 * Runs `compute` on a fresh Draft of the run until its transition commits. `compute` may throw
 * an AobError to refuse (nothing is written).
 */
export async function transact<T>(
  kernel: TransactKernel,
  runId: RunId,
  compute: (d: Draft, state: RunState) => Promise<T> | T,
  opts: { durableDispatch?: boolean } = {}
): Promise<TransactResult<T>> {
  const { runs, runLock } = kernel.state
  return runLock(runId, async () => {
    for (let attempt = 1; ; attempt++) {
      // Believed like a cached state: a run handed over by its creator (once, on first sight).
      const cached = runs.get(runId) ?? (attempt === 1 ? await takeNewRun(kernel, runId) : null)
      const state = cached ?? (await kernel.store.loadRun(runId))
      if (!state) throw new AobError(ErrorCode.RunNotFound, `run ${runId} not found`)
      runs.delete(runId)
      const draft = new Draft(state)
      let value: T
      try {
        value = await compute(draft, state)
      } catch (e) {
        // A refusal is believed only from a fresh read, like "nothing to do" below (the cached
        // state may predate what the caller saw: an approval opened by another process).
        if (cached && e instanceof AobError) continue
        throw e
      }
      const t = draft.toTransition()
      if (isEmptyTransition(t)) {
        if (cached) continue // believe "nothing to do" only from a fresh read
        remember(kernel, state)
        return { value, events: [], state }
      }
      // The API records its dispatches as pending in the commit (a coordinator's sweep finishes
      // them if this process dies first); the coordinator needs not: an unacked completion is
      // redelivered and re-dispatches.
      if (opts.durableDispatch && t.tasks.length > 0 && busOutlivesProcess(kernel))
        t.dispatchPending = true
      try {
        const events = await kernel.store.commitTransition(state.run, t)
        remember(kernel, nextRunState(state, t, events.length))
        count(kernel, state, t, events)
        await announce(kernel, runId, t.tasks, events)
        if (t.dispatchPending) clearPending(kernel, runId)
        return { value, events, state }
      } catch (e) {
        if (e instanceof AobError && e.code === ErrorCode.VersionConflict && attempt < MAX_ATTEMPTS)
          continue
        throw e
      }
    }
  })
}

/**
 * Dispatches tasks and broadcasts events after a commit. The commit already happened, so a bus
 * outage is waited out (retries for up to ~15 s) rather than reported as a failed write.
 */
export async function announce(
  kernel: Pick<Kernel, 'lanes'>,
  runId: RunId,
  tasks: Task[],
  events: RunEvent[]
): Promise<void> {
  // Issued together, so the bus client sends them in one write (announce never throws).
  await Promise.all([
    withRetry(() => Promise.all(tasks.map((task) => kernel.lanes.dispatch(task)))),
    kernel.lanes.announce(runId, events),
  ])
}

/** Clears a recorded pending dispatch, not awaited: if it is lost, the sweep dispatches once more (harmless). */
export function clearPending(kernel: Pick<Kernel, 'store' | 'log'>, runId: RunId): void {
  kernel.store
    .clearDispatchPending(runId)
    .catch((e) =>
      kernel.log.warn(
        { err: e, run_id: runId },
        'could not clear a pending dispatch; the sweep will dispatch it again'
      )
    )
}

// --- internal ---

/** The metrics a committed transition moves (SPEC §8): approvals, agent calls, ended nodes and runs. */
export function count(
  kernel: Pick<Kernel, 'metrics' | 'log'>,
  before: RunState,
  t: Transition,
  events: RunEvent[]
): void {
  const { metrics } = kernel
  for (const e of events) {
    if (e.type === 'approval_decided') metrics.approvals.inc({ decision: String(e.data.status) })
    else if (e.type === 'agent_turn') {
      metrics.agentDecisions.inc()
      const usage = (e.data.usage ?? {}) as Record<string, unknown>
      for (const kind of ['prompt', 'completion', 'cached'] as const) {
        const n = usage[`${kind}_tokens`]
        if (typeof n === 'number' && n > 0) metrics.agentTokens.inc({ kind }, n)
      }
    }
  }
  const ir = t.run.ir ?? before.run.ir
  for (const id of Object.keys(t.nodes)) {
    const node = t.nodes[id]
    if (!node || !ENDED_NODE.has(node.status) || own(before.nodes, id)?.status === node.status)
      continue
    metrics.nodes.inc({ type: own(ir.nodes, id)?.type ?? 'unknown', status: node.status })
  }
  if (t.run.status && t.run.status !== before.run.status && isTerminalRun(t.run.status)) {
    metrics.runs.inc({ status: t.run.status })
    kernel.log.info(
      { run_id: before.run.id, trace_id: before.run.trace_id, status: t.run.status },
      'run ended'
    )
  }
}
const ENDED_NODE = new Set<string>(['succeeded', 'failed', 'skipped', 'cancelled'])

function remember(kernel: TransactKernel, state: RunState): void {
  if (!isTerminalRun(state.run.status)) kernel.state.runs.set(state.run.id, state)
}

async function withRetry<T>(fn: () => Promise<T>, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await fn()
    } catch (e) {
      if (Date.now() + delay > deadline) throw e
      await Bun.sleep(delay)
    }
  }
}

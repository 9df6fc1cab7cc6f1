/**
 * One run transition end to end: load the state, let the engine compute a transition, commit it
 * if the run did not move meanwhile (else retry), then dispatch its tasks and announce its
 * events. Used by the API (cancel, patch) and the coordinator (completions) alike.
 * @module
 */
import { Draft } from '../engine/draft.ts'
import { isEmptyTransition, type RunEvent, type RunState, type Task } from '../engine/state.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { CHANNELS, TOPICS } from '../ports/bus.ts'
import { createKeyedMutex } from './mutex.ts'

const MAX_ATTEMPTS = 20
const withRunLock = createKeyedMutex()

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
  kernel: Pick<Kernel, 'store' | 'bus'>,
  runId: RunId,
  compute: (d: Draft, state: RunState) => Promise<T> | T
): Promise<TransactResult<T>> {
  return withRunLock(runId, async () => {
    for (let attempt = 1; ; attempt++) {
      const state = await kernel.store.loadRun(runId)
      if (!state) throw new AobError(ErrorCode.RunNotFound, `run ${runId} not found`)
      const draft = new Draft(state)
      const value = await compute(draft, state)
      const t = draft.toTransition()
      if (isEmptyTransition(t)) return { value, events: [], state }
      try {
        const events = await kernel.store.commitTransition(state.run, t)
        await announce(kernel, runId, t.tasks, events)
        return { value, events, state }
      } catch (e) {
        if (e instanceof AobError && e.code === ErrorCode.VersionConflict && attempt < MAX_ATTEMPTS) continue
        throw e
      }
    }
  })
}

/**
 * Dispatches tasks and broadcasts events after a commit. The commit already happened, so a bus
 * outage is waited out (retries for up to ~15 s) rather than reported as a failed write.
 */
export async function announce(kernel: Pick<Kernel, 'bus'>, runId: RunId, tasks: Task[], events: RunEvent[]): Promise<void> {
  await withRetry(() => Promise.all(tasks.map((task) => dispatchTask(kernel, task))))
  if (events.length > 0) await kernel.bus.notify(CHANNELS.runEvents(runId), events).catch(() => {}) // live view only: readers catch up from the store
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

export function dispatchTask(kernel: Pick<Kernel, 'bus'>, task: Task): Promise<void> {
  const { delay_ms, ...msg } = task
  return kernel.bus.publish(TOPICS.tasks(task.type), msg, delay_ms ? { delayMs: delay_ms } : undefined)
}

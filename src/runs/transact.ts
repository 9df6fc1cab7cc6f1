/**
 * One run transition end to end: load the state, let the engine compute a transition, commit it
 * if the run did not move meanwhile (else retry), then dispatch its tasks and announce its
 * events. Used by the API (cancel, patch) and the coordinator (completions) alike.
 *
 * The state each process committed last is kept (a bounded cache), so the next transition of
 * the run usually needs no read: the store's version check refuses a stale state (another
 * process moved the run), and a transition that would change nothing is recomputed on a fresh
 * read before it is believed.
 * @module
 */
import { Draft } from '../engine/draft.ts'
import { isEmptyTransition, isTerminalRun, type RunEvent, type RunState, type Task, type Transition } from '../engine/state.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { CHANNELS, TOPICS } from '../ports/bus.ts'
import { loadResolved, offloadOutputs } from './cas.ts'
import { createKeyedMutex } from './mutex.ts'
import { dictOf } from '../model/dict.ts'

const MAX_ATTEMPTS = 20
const CACHE_LIMIT = 10_000
const withRunLock = createKeyedMutex()
const cache = new Map<string, RunState>()

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
  compute: (d: Draft, state: RunState) => Promise<T> | T,
  opts: { durableDispatch?: boolean } = {}
): Promise<TransactResult<T>> {
  const key = cacheKey(kernel, runId)
  return withRunLock(runId, async () => {
    for (let attempt = 1; ; attempt++) {
      const cached = cache.get(key)
      const state = cached ?? (await loadResolved(kernel.store, runId))
      if (!state) throw new AobError(ErrorCode.RunNotFound, `run ${runId} not found`)
      cache.delete(key)
      const draft = new Draft(state)
      const value = await compute(draft, state)
      const t = draft.toTransition()
      if (isEmptyTransition(t)) {
        if (cached) continue // believe "nothing to do" only from a fresh read
        remember(key, state)
        return { value, events: [], state }
      }
      // The API records its dispatches as pending in the commit (a coordinator's sweep finishes
      // them if this process dies first); the coordinator needs not: an unacked completion is
      // redelivered and re-dispatches.
      if (opts.durableDispatch && t.tasks.length > 0) t.dispatchPending = true
      try {
        const events = await kernel.store.commitTransition(state.run, await offloadOutputs(kernel.store, t))
        remember(key, applied(state, t, events.length))
        await announce(kernel, runId, t.tasks, events)
        if (t.dispatchPending) kernel.store.clearDispatchPending(runId).catch(() => {}) // lost: the sweep re-dispatches once
        return { value, events, state }
      } catch (e) {
        if (e instanceof AobError && e.code === ErrorCode.VersionConflict && attempt < MAX_ATTEMPTS) continue
        throw e
      }
    }
  })
}

// --- internal ---

const storeIds = new WeakMap<object, number>()
let nextStoreId = 0

/** Runs of different stores (tests run several kernels in one process) never share an entry. */
function cacheKey(kernel: Pick<Kernel, 'store'>, runId: string): string {
  let id = storeIds.get(kernel.store)
  if (id === undefined) storeIds.set(kernel.store, (id = nextStoreId++))
  return `${id}:${runId}`
}

function remember(key: string, state: RunState): void {
  if (isTerminalRun(state.run.status)) return
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  cache.set(key, state)
}

/** The state after `t` committed on top of `state`. */
function applied(state: RunState, t: Transition, eventCount: number): RunState {
  const nodes = dictOf(state.nodes)
  for (const [id, node] of Object.entries(t.nodes)) {
    if (node === null) delete nodes[id]
    else nodes[id] = node
  }
  const run = { ...state.run, ...t.run, version: state.run.version + 1, last_seq: state.run.last_seq + eventCount }
  return { run, nodes }
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

/**
 * One live feed of a run's events, shared by the SSE route, the fanout and the UI: the events
 * after `after` in seq order with no gap and no duplicate, live as they are announced, ending
 * after the run's terminal event. The live announcements are best effort, so the store is read
 * again whenever they reveal a gap and on every idle tick: a lost notification (the terminal
 * one included) delays an event by at most one tick and never stalls the feed.
 * @module
 */
import { isTerminalRun, TERMINAL_EVENT_TYPES, type RunEvent } from '../engine/state.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'

const PAGE = 500

export interface FollowOptions {
  /** Idle time after which the feed yields `null` (a keep-alive) and re-reads the store. */
  idleMs: number
  /** Ends the feed. */
  signal?: AbortSignal
}

/** Yields events, and `null` on each idle tick; returns when the run has ended and all was sent. */
export async function* followRunEvents(
  kernel: Pick<Kernel, 'store' | 'lanes'>,
  runId: RunId,
  after: number,
  opts: FollowOptions
): AsyncGenerator<RunEvent | null> {
  let last = after
  let queued: RunEvent[] = []
  let wake: (() => void) | null = null
  const onAbort = () => wake?.()
  opts.signal?.addEventListener('abort', onAbort)
  const unsubscribe = await kernel.lanes.follow(runId, (events) => {
    queued.push(...events)
    wake?.()
  })
  /** The store's events after `last`, page by page. */
  async function* fromStore(): AsyncGenerator<RunEvent> {
    for (;;) {
      const page = await kernel.store.readEvents(runId, last, PAGE)
      for (const ev of page) yield ev
      if (page.length < PAGE) return
    }
  }
  const finished = async () => {
    const state = await kernel.store.loadRun(runId)
    return !state || (isTerminalRun(state.run.status) && last >= state.run.last_seq)
  }
  try {
    let ended = false
    const take = (ev: RunEvent): boolean => {
      if (ev.seq !== last + 1) return false
      last = ev.seq
      if (TERMINAL_EVENT_TYPES.includes(ev.type)) ended = true
      return true
    }
    for await (const ev of fromStore()) if (take(ev)) yield ev
    if (!ended) ended = await finished()
    while (!ended && !opts.signal?.aborted) {
      if (queued.length === 0) {
        const woke = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), opts.idleMs)
          wake = () => {
            clearTimeout(timer)
            resolve(true)
          }
        })
        wake = null
        if (opts.signal?.aborted) return
        if (!woke) {
          yield null
          for await (const ev of fromStore()) if (take(ev)) yield ev
          if (!ended) ended = await finished()
        }
        continue
      }
      const batch = queued.sort((a, b) => a.seq - b.seq)
      queued = []
      if (batch[0].seq > last + 1) for await (const ev of fromStore()) if (take(ev)) yield ev
      for (const ev of batch) {
        if (ev.seq <= last) continue
        if (take(ev)) yield ev
        else for await (const gap of fromStore()) if (take(gap)) yield gap
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    unsubscribe()
  }
}

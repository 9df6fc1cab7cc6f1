/**
 * Delayed messages (retry backoff) wait in a per-topic ZSET until due; this moves them onto
 * their stream on time at almost no idle cost: one timer per process, armed for the earliest
 * due time this process knows of (the script says when the next one is due after each move),
 * re-armed at once when this process schedules an earlier one. Messages scheduled by another
 * process are picked up by a slow poll of the topics this process consumes (or by that
 * process's own timer, which is the usual case: the coordinator that schedules a retry also
 * promotes it).
 * @module
 */
import type { Logger } from '../../log.ts'

export interface PromoterOptions {
  /** Moves due messages of `topic`; resolves with the ms until its next one (-1: none left). */
  promote(topic: string): Promise<number>
  /** Poll interval of the topics this process consumes (for others' messages). */
  pollMs: number
  log?: Logger
}

export interface Promoter {
  /** A message of `topic` is due in `inMs`. */
  scheduled(topic: string, inMs: number): void
  /** This process consumes `topic`: poll it slowly for messages others scheduled. */
  watch(topic: string): void
  close(): void
}

export function createPromoter(opts: PromoterOptions): Promoter {
  /** Earliest known due time (local ms) per topic. */
  const due = new Map<string, number>()
  const watched = new Set<string>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let armedFor = Infinity
  let running = false
  let failing = false
  let closed = false

  const arm = () => {
    if (closed || running) return
    let next = Infinity
    for (const at of due.values()) next = Math.min(next, at)
    if (next === armedFor && timer) return
    if (timer) clearTimeout(timer)
    timer = null
    armedFor = next
    if (next === Infinity) return
    timer = setTimeout(fire, Math.max(0, next - Date.now()))
    timer.unref?.()
  }

  const fire = async () => {
    timer = null
    armedFor = Infinity
    running = true
    const now = Date.now()
    try {
      for (const [topic, at] of [...due]) {
        if (at > now + 2) continue
        due.delete(topic)
        try {
          const inMs = await opts.promote(topic)
          if (inMs >= 0) note(topic, Date.now() + inMs)
          if (failing) opts.log?.info({ topic }, 'delayed messages are promoted again')
          failing = false
        } catch (e) {
          // Retries of this topic wait while this fails: say so once per outage, try again soon.
          if (!failing)
            opts.log?.error(
              { err: e, topic },
              'cannot promote delayed messages (retries are held back)'
            )
          failing = true
          note(topic, Date.now() + 500)
        }
      }
    } finally {
      running = false
      arm()
    }
  }

  const note = (topic: string, at: number) => {
    const known = due.get(topic)
    if (known === undefined || at < known) due.set(topic, at)
  }

  const poll = setInterval(() => {
    for (const topic of watched) note(topic, Date.now())
    arm()
  }, opts.pollMs)
  poll.unref?.()

  return {
    scheduled(topic, inMs) {
      note(topic, Date.now() + inMs)
      arm()
    },
    watch(topic) {
      if (watched.has(topic)) return
      watched.add(topic)
      note(topic, Date.now())
      arm()
    },
    close() {
      closed = true
      clearInterval(poll)
      if (timer) clearTimeout(timer)
    },
  }
}

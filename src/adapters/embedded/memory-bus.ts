/**
 * The embedded Bus: in-process topics with consumer groups, pending entries, acks, idle reclaim
 * and delayed publishing; messages cross it as JSON text, as they cross Redis. Each method does
 * its reads and writes before its first `await`, so every transition is atomic.
 * @module
 */
import { BoundedMap } from '../../bounded-map.ts'
import type { Bus, ConsumeOptions, Delivery } from '../../ports/bus.ts'
import { gcraStep } from '../../rate-limit.ts'

interface Entry {
  id: string
  body: string
}

interface Pending {
  entry: Entry
  consumer: string
  deliveredAt: number
  deliveries: number
}

interface Group {
  queue: Entry[]
  head: number
  pending: Map<string, Pending>
  waiters: Set<() => void>
}

interface Topic {
  /** Messages published before any group existed: the first group starts with them. */
  backlog: Entry[]
  groups: Map<string, Group>
  seq: number
}

const MAX_BUDGETS = 10_000

export function createMemoryBus(): Bus {
  const topics = new Map<string, Topic>()
  const channels = new Map<string, Set<(payload: unknown) => void>>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  let closed = false
  let fresh = true
  /** Delivers a JSON text to the channel's listeners, each its own copy (as over Redis). */
  const notifyText = (channel: string, text: string) => {
    const listeners = channels.get(channel)
    if (!listeners) return
    for (const l of listeners) l(JSON.parse(text))
  }
  // Runs' bounded event histories (the fanout replays from them), the least recent run first.
  const histories = new BoundedMap<string, Map<number, string>>(10_000)
  // Scratch state (agent checkpoints): bounded, the oldest write goes first.
  const state = new BoundedMap<string, { value: string; until: number }>(10_000)
  /** Rate-limit budgets: key → GCRA theoretical arrival time (expired ones purged past MAX_BUDGETS). */
  const budgets = new Map<string, number>()

  const topic = (name: string): Topic => {
    let t = topics.get(name)
    if (!t) topics.set(name, (t = { backlog: [], groups: new Map(), seq: 0 }))
    return t
  }
  const group = (t: Topic, name: string): Group => {
    let g = t.groups.get(name)
    if (!g) {
      g = {
        queue: t.groups.size === 0 ? t.backlog : [],
        head: 0,
        pending: new Map(),
        waiters: new Set(),
      }
      t.backlog = []
      t.groups.set(name, g)
    }
    return g
  }
  const append = (name: string, msg: unknown): void => {
    const t = topic(name)
    const entry = { id: `${Date.now()}-${t.seq++}`, body: JSON.stringify(msg) }
    if (t.groups.size === 0) t.backlog.push(entry)
    for (const g of t.groups.values()) {
      g.queue.push(entry)
      for (const wake of g.waiters) wake()
    }
  }
  const take = (g: Group, consumer: string, count: number): Delivery[] => {
    const out: Delivery[] = []
    const now = Date.now()
    while (out.length < count && g.head < g.queue.length) {
      const entry = g.queue[g.head++]
      g.pending.set(entry.id, { entry, consumer, deliveredAt: now, deliveries: 1 })
      out.push({ id: entry.id, msg: JSON.parse(entry.body), deliveries: 1 })
    }
    if (g.head > 1024 && g.head * 2 > g.queue.length) {
      g.queue = g.queue.slice(g.head)
      g.head = 0
    }
    return out
  }

  return {
    async publish(name, msg, opts) {
      if (closed) throw new Error('[aob] [memory-bus] closed')
      const delay = opts?.delayMs ?? 0
      if (delay <= 0) return append(name, msg)
      const body = JSON.parse(JSON.stringify(msg))
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!closed) append(name, body)
      }, delay)
      timers.add(timer)
    },
    async consume<T>(name: string, groupName: string, consumer: string, opts: ConsumeOptions) {
      const g = group(topic(name), groupName)
      const now = take(g, consumer, opts.count)
      if (now.length > 0 || opts.blockMs <= 0 || closed) return now as Delivery<T>[]
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          g.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, opts.blockMs)
        g.waiters.add(wake)
      })
      return take(g, consumer, opts.count) as Delivery<T>[]
    },
    async ack(name, groupName, ids) {
      const g = group(topic(name), groupName)
      for (const id of ids) g.pending.delete(id)
    },
    async depth(name, groupName) {
      const g = group(topic(name), groupName)
      return g.queue.length - g.head + g.pending.size
    },
    async reclaim<T>(
      name: string,
      groupName: string,
      consumer: string,
      minIdleMs: number,
      count: number
    ) {
      const g = group(topic(name), groupName)
      const now = Date.now()
      const out: Delivery<T>[] = []
      for (const p of g.pending.values()) {
        if (out.length >= count) break
        if (now - p.deliveredAt < minIdleMs) continue
        p.consumer = consumer
        p.deliveredAt = now
        p.deliveries += 1
        out.push({ id: p.entry.id, msg: JSON.parse(p.entry.body), deliveries: p.deliveries })
      }
      return out
    },
    async touch(name, groupName, consumer, ids) {
      const g = group(topic(name), groupName)
      const now = Date.now()
      for (const id of ids) {
        const p = g.pending.get(id)
        if (p && p.consumer === consumer) p.deliveredAt = now
      }
    },
    async notify(channel, payload) {
      if (channels.has(channel)) notifyText(channel, JSON.stringify(payload))
    },
    async subscribe(channel, listener) {
      let set = channels.get(channel)
      if (!set) channels.set(channel, (set = new Set()))
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0) channels.delete(channel)
      }
    },
    async claimFreshStart() {
      const was = fresh
      fresh = false
      return was
    },
    async record(runId, entries, notify, o) {
      let h = histories.get(runId)
      if (!h) histories.set(runId, (h = new Map()))
      for (const e of entries) h.set(e.seq, e.body)
      if (h.size > o.cap) {
        const seqs = [...h.keys()].sort((a, b) => a - b)
        for (const s of seqs.slice(0, h.size - o.cap)) h.delete(s)
      }
      // The entries' texts are the payload: nothing is serialised again.
      if (channels.has(notify.channel))
        notifyText(notify.channel, `[${entries.map((e) => e.body).join(',')}]`)
      if (notify.extra && channels.has(notify.extra.channel))
        notifyText(notify.extra.channel, JSON.stringify(notify.extra.payload))
    },
    async history(runId, afterSeq, limit) {
      const h = histories.get(runId)
      if (!h) return []
      return [...h.entries()]
        .filter(([seq]) => seq > afterSeq)
        .sort(([a], [b]) => a - b)
        .slice(0, limit)
        .map(([seq, body]) => ({ seq, body }))
    },
    async historyStart(runId) {
      const h = histories.get(runId)
      return h?.size ? Math.min(...h.keys()) : null
    },
    async putState(runId, key, value, ttlMs) {
      const id = `${runId}\u0000${key}`
      state.delete(id)
      state.set(id, { value, until: Date.now() + ttlMs })
    },
    async getState(runId, key) {
      const entry = state.get(`${runId}\u0000${key}`)
      return entry && entry.until > Date.now() ? entry.value : null
    },
    async takeState(runId, key) {
      const id = `${runId}\u0000${key}`
      const entry = state.get(id)
      state.delete(id)
      return entry && entry.until > Date.now() ? entry.value : null
    },
    async admit(key, rule) {
      const now = Date.now()
      if (budgets.size > MAX_BUDGETS)
        for (const [k, tat] of budgets) if (tat <= now) budgets.delete(k)
      const { tat, ...admission } = gcraStep(budgets.get(key), now, rule)
      if (admission.allowed) budgets.set(key, tat)
      return admission
    },
    async ping() {},
    async close() {
      closed = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const t of topics.values())
        for (const g of t.groups.values()) for (const wake of g.waiters) wake()
    },
  }
}

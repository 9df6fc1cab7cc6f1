/**
 * The Bus on Redis Streams (ioredis): one stream per topic with consumer groups, XAUTOCLAIM
 * for idle pending messages, a delayed set per topic promoted by a Lua script, pub/sub for
 * notifications. Every blocking reader has a connection of its own; commands on the shared
 * connection are never blocked behind a read.
 * @module
 */
import Redis from 'ioredis'
import type { Logger } from '../../log.ts'
import type { Bus, ConsumeOptions, Delivery } from '../../ports/bus.ts'
import { redisKeys } from './keys.ts'
import { createPromoter } from './promoter.ts'
import { registerScripts } from './scripts.ts'

export interface RedisBusOptions {
  prefix?: string
  /** Where background failures (delayed promotion) are reported. */
  log?: Logger
  /** How often a consumer polls its topics for delayed messages other processes scheduled. */
  promoteEveryMs?: number
}

type StreamEntry = [id: string, fields: string[]]

export function createRedisBus(url: string, opts: RedisBusOptions = {}): Bus {
  const keys = redisKeys(opts.prefix ?? '')
  // Auto-pipelining batches the commands one tick issues into one write (the profile showed
  // socket writes dominating); blocking reads never run on this connection.
  const main = registerScripts(
    new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3, enableAutoPipelining: true })
  )
  main.on('error', () => {}) // reconnects by itself; callers see their commands fail
  const readers = new Map<string, Redis>()
  const groups = new Set<string>()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  let subscriber: Redis | undefined
  let closed = false

  const ensureGroup = async (topic: string, group: string) => {
    const id = `${topic}\u0000${group}`
    if (groups.has(id)) return
    try {
      await main.xgroup('CREATE', keys.stream(topic), group, '0', 'MKSTREAM')
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e
    }
    groups.add(id)
  }
  const promoter = createPromoter({
    async promote(topic) {
      const [, inMs] = await main.promoteDelayed(keys.delayed(topic), keys.stream(topic), 500)
      return inMs
    },
    pollMs: opts.promoteEveryMs ?? 1_000,
    log: opts.log,
  })
  const reader = (topic: string, group: string, consumer: string) => {
    const id = `${topic}\u0000${group}\u0000${consumer}`
    let r = readers.get(id)
    if (!r) {
      r = main.duplicate()
      r.on('error', () => {})
      readers.set(id, r)
    }
    return r
  }
  const toDelivery = <T>([id, fields]: StreamEntry, deliveries: number): Delivery<T> => {
    const i = fields.indexOf('body')
    return { id, msg: JSON.parse(fields[i + 1]) as T, deliveries }
  }

  return {
    async publish(topic, msg, o) {
      const body = JSON.stringify(msg)
      const delay = o?.delayMs ?? 0
      if (delay > 0) {
        await main.scheduleDelayed(keys.delayed(topic), delay, `${crypto.randomUUID()}|${body}`)
        promoter.scheduled(topic, delay)
      } else await main.xadd(keys.stream(topic), '*', 'body', body)
    },
    async consume<T>(topic: string, group: string, consumer: string, o: ConsumeOptions) {
      await ensureGroup(topic, group)
      promoter.watch(topic)
      const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', o.count]
      if (o.blockMs > 0) args.push('BLOCK', o.blockMs)
      args.push('STREAMS', keys.stream(topic), '>')
      let res: [string, StreamEntry[]][] | null
      try {
        res = (await (reader(topic, group, consumer) as any).xreadgroup(...args)) as
          | [string, StreamEntry[]][]
          | null
      } catch (e) {
        if (String((e as Error).message).includes('NOGROUP')) {
          // Redis lost the group (restart without persistence, FLUSHALL): make it again.
          groups.delete(`${topic}\u0000${group}`)
          return []
        }
        throw e
      }
      if (!res) return []
      return res[0][1].map((entry) => toDelivery<T>(entry, 1))
    },
    async ack(topic, group, ids) {
      if (ids.length) await main.ackDelete(keys.stream(topic), group, ...ids)
    },
    async depth(topic, group) {
      await ensureGroup(topic, group)
      // XINFO GROUPS (Redis 7.0): pending = delivered, not acked; lag = not yet delivered.
      const groupsInfo = (await main.xinfo('GROUPS', keys.stream(topic))) as unknown[][]
      for (const fields of groupsInfo) {
        const info = new Map<string, unknown>()
        for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1])
        if (info.get('name') !== group) continue
        const lag = info.get('lag')
        const pending = Number(info.get('pending') ?? 0)
        // lag is nil when Redis cannot tell (entries deleted mid-stream): count the whole stream then.
        return (
          pending +
          (lag === null || lag === undefined
            ? Number(await main.xlen(keys.stream(topic)))
            : Number(lag))
        )
      }
      return 0
    },
    async reclaim<T>(
      topic: string,
      group: string,
      consumer: string,
      minIdleMs: number,
      count: number
    ) {
      await ensureGroup(topic, group)
      const key = keys.stream(topic)
      const [, entries] = (await main.xautoclaim(
        key,
        group,
        consumer,
        minIdleMs,
        '0-0',
        'COUNT',
        count
      )) as [string, (StreamEntry | null)[], string[]]
      const live = entries.filter((e): e is StreamEntry => Array.isArray(e) && Array.isArray(e[1]))
      if (live.length === 0) return []
      const pending = (await main.xpending(
        key,
        group,
        live[0][0],
        live[live.length - 1][0],
        live.length * 2,
        consumer
      )) as [string, string, number, number][]
      const counts = new Map(pending.map(([id, , , n]) => [id, n]))
      return live.map((e) => toDelivery<T>(e, counts.get(e[0]) ?? 2))
    },
    async touch(topic, group, consumer, ids) {
      if (ids.length) await main.xclaim(keys.stream(topic), group, consumer, 0, ...ids, 'JUSTID')
    },
    async record(runId, entries, notify, o) {
      if (entries.length === 0) return
      // One member per batch (a transition's events): one ZADD, and the published payload.
      await main.recordEvents(
        keys.history(runId),
        o.cap,
        o.ttlMs ?? 0,
        keys.channel(notify.channel),
        notify.extra ? keys.channel(notify.extra.channel) : '',
        notify.extra ? JSON.stringify(notify.extra.payload) : '',
        Math.max(...entries.map((e) => e.seq)),
        `[${entries.map((e) => e.body).join(',')}]`
      )
    },
    async history(runId, afterSeq, limit) {
      const batches = await main.zrangebyscore(keys.history(runId), `(${afterSeq}`, '+inf')
      const out: { seq: number; body: string }[] = []
      for (const batch of batches)
        for (const ev of JSON.parse(batch) as { seq: number }[])
          if (ev.seq > afterSeq && out.length < limit)
            out.push({ seq: ev.seq, body: JSON.stringify(ev) })
      return out.sort((a, b) => a.seq - b.seq)
    },
    async historyStart(runId) {
      const [first] = await main.zrange(keys.history(runId), '0', '0')
      if (first === undefined) return null
      return Math.min(...(JSON.parse(first) as { seq: number }[]).map((e) => e.seq))
    },
    async notify(channel, payload) {
      await main.publish(keys.channel(channel), JSON.stringify(payload))
    },
    async subscribe(channel, listener) {
      if (!subscriber) {
        subscriber = main.duplicate()
        subscriber.on('error', () => {})
        subscriber.on('message', (ch: string, message: string) => {
          const set = listeners.get(ch)
          if (!set) return
          const payload = JSON.parse(message)
          for (const l of set) l(payload)
        })
      }
      const name = keys.channel(channel)
      let set = listeners.get(name)
      if (!set) {
        listeners.set(name, (set = new Set()))
        await subscriber.subscribe(name)
      }
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0 && listeners.get(name) === set) {
          listeners.delete(name)
          // Harmless if lost: a stale subscription only delivers to no listener.
          subscriber?.unsubscribe(name).catch(() => {})
        }
      }
    },
    async claimFreshStart() {
      const res = await main.set(keys.generation(), crypto.randomUUID(), 'NX')
      return res === 'OK'
    },
    async putState(runId, key, value, ttlMs) {
      await main.set(keys.state(runId, key), value, 'PX', ttlMs)
    },
    async getState(runId, key) {
      return main.get(keys.state(runId, key))
    },
    async takeState(runId, key) {
      return main.getdel(keys.state(runId, key))
    },
    async admit(key, rule) {
      const [allowed, remaining, retryAfterMs, resetMs] = await main.gcra(
        keys.rateLimit(key),
        rule.emissionMs,
        rule.burst
      )
      return { allowed: allowed === 1, remaining, retryAfterMs, resetMs }
    },
    async ping() {
      await main.ping()
    },
    async close() {
      if (closed) return
      closed = true
      promoter.close()
      for (const r of readers.values()) r.disconnect()
      subscriber?.disconnect()
      // QUIT waits for a reply a dead server never sends: give it half a second, then drop it.
      // A failed QUIT means the connection is gone already; disconnect() below ends it either way.
      await Promise.race([main.quit().catch(() => {}), Bun.sleep(500)])
      main.disconnect()
    },
  }
}

/**
 * A consumer-group loop shared by workers and the coordinator: reads up to `concurrency`
 * messages at a time, processes them concurrently, acks each one after it was processed, keeps
 * in-flight messages alive with heartbeats, and reclaims messages that another consumer left
 * pending for longer than `visibilityMs` (it crashed). A message whose processing throws is not
 * acked: it is delivered again after `visibilityMs`.
 * @module
 */
import type { Logger } from '../log.ts'
import type { Bus, Delivery } from '../ports/bus.ts'

export interface ConsumerOptions<T> {
  topic: string
  group: string
  consumer: string
  concurrency: number
  visibilityMs: number
  process(delivery: Delivery<T>): Promise<void>
}

export interface Service {
  name: string
  stop(): Promise<void>
}

export function startConsumer<T>(deps: { bus: Bus; log: Logger }, opts: ConsumerOptions<T>): Service {
  const { bus, log } = deps
  const inflight = new Map<string, Promise<void>>()
  let running = true

  const handle = (d: Delivery<T>) => {
    if (inflight.has(d.id)) return
    const p = opts
      .process(d)
      .then(() => bus.ack(opts.topic, opts.group, [d.id]))
      .catch((e) => log.error({ err: e, topic: opts.topic, id: d.id }, `[${opts.topic}] processing failed; left pending for redelivery`))
      .finally(() => inflight.delete(d.id))
    inflight.set(d.id, p)
  }

  const heartbeat = setInterval(() => {
    if (inflight.size) bus.touch(opts.topic, opts.group, opts.consumer, [...inflight.keys()]).catch(() => {})
  }, Math.max(50, Math.floor(opts.visibilityMs / 3)))

  const reclaim = setInterval(async () => {
    const free = opts.concurrency - inflight.size
    if (!running || free <= 0) return
    try {
      const claimed = await bus.reclaim<T>(opts.topic, opts.group, opts.consumer, opts.visibilityMs, free)
      if (claimed.length) log.warn({ topic: opts.topic, count: claimed.length }, 'reclaimed idle messages')
      for (const d of claimed) handle(d)
    } catch (e) {
      log.error({ err: e }, 'reclaim failed')
    }
  }, Math.max(100, Math.floor(opts.visibilityMs / 2)))

  const loop = (async () => {
    while (running) {
      const free = opts.concurrency - inflight.size
      if (free <= 0) {
        await Promise.race(inflight.values())
        continue
      }
      try {
        const batch = await bus.consume<T>(opts.topic, opts.group, opts.consumer, { count: free, blockMs: 500 })
        if (running) for (const d of batch) handle(d)
      } catch (e) {
        if (!running) break
        log.error({ err: e, topic: opts.topic }, 'consume failed; retrying')
        await Bun.sleep(500)
      }
    }
  })()

  return {
    name: `${opts.topic}/${opts.group}`,
    async stop() {
      running = false
      clearInterval(heartbeat)
      clearInterval(reclaim)
      await loop
      await Promise.allSettled(inflight.values())
    },
  }
}

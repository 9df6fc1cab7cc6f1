/**
 * A consumer-group loop shared by workers and the coordinator: reads up to `concurrency`
 * messages at a time, processes them concurrently, acks each one after it was processed, keeps
 * in-flight messages alive with heartbeats, and reclaims messages that another consumer left
 * pending for longer than `visibilityMs` (it crashed). A message whose processing throws is not
 * acked: it is delivered again after `visibilityMs`.
 * @module
 */
import * as v from 'valibot'
import type { Logger } from '../log.ts'
import type { Bus, Delivery } from '../ports/bus.ts'

export interface ConsumerOptions<T> {
  topic: string
  /** Each message is checked against it first: a malformed one is logged, acked and dropped. */
  schema?: v.GenericSchema
  group: string
  consumer: string
  concurrency: number
  visibilityMs: number
  /**
   * Handles one message; it is acked when this resolves. `stopping` is aborted when the
   * consumer stops and its grace is over: whatever is still running is then released (not
   * acked) for another consumer to take over.
   */
  process(delivery: Delivery<T>, stopping: AbortSignal): Promise<void>
  /** How long stop() lets in-flight messages finish before it releases them. Default 2 s. */
  stopGraceMs?: number
}

export interface Service {
  name: string
  stop(): Promise<void>
}

export function startConsumer<T>(
  deps: { bus: Bus; log: Logger },
  opts: ConsumerOptions<T>
): Service {
  const { bus, log } = deps
  const inflight = new Map<string, Promise<void>>()
  const stopping = new AbortController()
  let running = true

  // The acks of the messages finished in one turn of the event loop go out as one command.
  let batch: { ids: string[]; done: Promise<void> } | null = null
  const ackSoon = (id: string): Promise<void> => {
    if (!batch) {
      const ids: string[] = []
      const done = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          batch = null
          bus.ack(opts.topic, opts.group, ids).then(resolve, reject)
        })
      )
      batch = { ids, done }
    }
    batch.ids.push(id)
    return batch.done
  }

  const handle = (d: Delivery<T>) => {
    if (inflight.has(d.id)) return
    if (opts.schema && !v.is(opts.schema, d.msg)) {
      const issues = v
        .safeParse(opts.schema, d.msg)
        .issues?.slice(0, 3)
        .map((i) => `${i.path?.map((p) => p.key).join('.') ?? ''}: ${i.message}`)
      log.error(
        { topic: opts.topic, id: d.id, issues, message: JSON.stringify(d.msg)?.slice(0, 300) },
        'malformed message dropped'
      )
      bus
        .ack(opts.topic, opts.group, [d.id])
        .catch((e) =>
          log.warn(
            { err: e, id: d.id },
            'could not ack a dropped message; it will be dropped again'
          )
        )
      return
    }
    const p = opts
      .process(d, stopping.signal)
      .then(() => (stopping.signal.aborted ? undefined : ackSoon(d.id)))
      .catch((e) =>
        log.error(
          { err: e, topic: opts.topic, id: d.id },
          `[${opts.topic}] processing failed; left pending for redelivery`
        )
      )
      .finally(() => inflight.delete(d.id))
    inflight.set(d.id, p)
  }

  const heartbeat = setInterval(
    () => {
      if (inflight.size)
        bus
          .touch(opts.topic, opts.group, opts.consumer, [...inflight.keys()])
          .catch((e) =>
            log.warn(
              { err: e, topic: opts.topic },
              'heartbeat failed; in-flight messages may be reclaimed by another consumer'
            )
          )
    },
    Math.max(50, Math.floor(opts.visibilityMs / 3))
  )

  const reclaim = setInterval(
    async () => {
      const free = opts.concurrency - inflight.size
      if (!running || free <= 0) return
      try {
        const claimed = await bus.reclaim<T>(
          opts.topic,
          opts.group,
          opts.consumer,
          opts.visibilityMs,
          free
        )
        if (claimed.length)
          log.warn({ topic: opts.topic, count: claimed.length }, 'reclaimed idle messages')
        for (const d of claimed) handle(d)
      } catch (e) {
        log.error({ err: e }, 'reclaim failed')
      }
    },
    Math.max(100, Math.floor(opts.visibilityMs / 2))
  )

  const loop = (async () => {
    while (running) {
      const free = opts.concurrency - inflight.size
      if (free <= 0) {
        await Promise.race(inflight.values())
        continue
      }
      try {
        const batch = await bus.consume<T>(opts.topic, opts.group, opts.consumer, {
          count: free,
          blockMs: READ_BLOCK_MS,
        })
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
      // Bounded even when the bus is unreachable: stop reading, let in-flight work finish for
      // the grace, then release the rest (left pending, another consumer takes it over).
      running = false
      clearInterval(heartbeat)
      clearInterval(reclaim)
      const grace = opts.stopGraceMs ?? 2_000
      // The read loop is not waited for: a read blocked on a dead connection ends when the bus
      // closes, and a batch it still returns is not handled (it stays pending for others).
      void loop
      await within(Promise.allSettled(inflight.values()), grace)
      if (inflight.size > 0) {
        log.warn(
          { topic: opts.topic, count: inflight.size },
          'stopping: released in-flight messages for redelivery'
        )
        stopping.abort(new Error('consumer stopping'))
        await within(Promise.allSettled(inflight.values()), 500)
      }
    },
  }
}

// --- internal ---

/**
 * How long one read waits for messages: a read returns as soon as one arrives, so this only sets
 * what an idle consumer costs (a read every 2 s per topic). Stopping does not wait for it.
 */
const READ_BLOCK_MS = 2_000

function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([
    p.then(() => {}),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]).finally(() => clearTimeout(timer))
}

/**
 * The bus in domain verbs: dispatch a task, complete one, announce a run's events, follow
 * them, and the request lane (a worker asks a coordinator for a run transition and waits for
 * the answer; workers still talk only to the bus). Topic names and message types meet here and
 * nowhere else.
 * @module
 */
import type { RunEvent } from '../engine/state.ts'
import { ErrorCode, RetryableError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { CompletionSignal, Reply, Request, Task } from '../model/messages.ts'
import { CHANNELS, TOPICS, type Bus } from '../ports/bus.ts'

export interface Lanes {
  /** Publishes a task on its type's topic (after its `delay_ms`, when set). */
  dispatch(task: Task): Promise<void>
  /** Publishes a worker's completion signal. */
  complete(signal: CompletionSignal): Promise<void>
  /** Broadcasts committed events to live followers; best effort (followers read the store too). */
  announce(runId: string, events: RunEvent[]): Promise<void>
  /** Calls `listener` with each batch of announced events of the run; resolves with unsubscribe. */
  follow(runId: string, listener: (events: RunEvent[]) => void): Promise<() => void>
  /**
   * Asks a coordinator for a transition and waits for its reply. A timeout throws a
   * RetryableError: the caller retries with the same `id`, and the handler makes the effect
   * idempotent by that id.
   */
  request(req: Request, timeoutMs: number): Promise<Reply>
  /** A coordinator's answer to a request. */
  reply(reply: Reply): Promise<void>
}

export function createLanes(bus: Bus, log: Logger): Lanes {
  return {
    dispatch(task) {
      const { delay_ms, ...msg } = task
      return bus.publish(TOPICS.tasks(task.type), msg, delay_ms ? { delayMs: delay_ms } : undefined)
    },
    complete(signal) {
      return bus.publish(TOPICS.completions, signal)
    },
    async announce(runId, events) {
      if (events.length === 0) return
      await bus
        .notify(CHANNELS.runEvents(runId), events)
        .catch((e) =>
          log.warn(
            { err: e, run_id: runId },
            'live event notification lost (followers catch up from the store)'
          )
        )
    },
    follow(runId, listener) {
      return bus.subscribe(CHANNELS.runEvents(runId), (payload) => listener(payload as RunEvent[]))
    },
    async request(req, timeoutMs) {
      let settle: (r: Reply) => void = () => {}
      const answered = new Promise<Reply>((resolve) => (settle = resolve))
      const unsubscribe = await bus.subscribe(CHANNELS.reply(req.id), (payload) =>
        settle(payload as Reply)
      )
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        await bus.publish(TOPICS.requests, req)
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new RetryableError(
                  ErrorCode.Timeout,
                  `no reply to request ${req.id} (${req.kind}) within ${timeoutMs} ms`
                )
              ),
            timeoutMs
          )
        })
        return await Promise.race([answered, timeout])
      } finally {
        clearTimeout(timer)
        unsubscribe()
      }
    },
    reply(reply) {
      return bus.notify(CHANNELS.reply(reply.id), reply)
    },
  }
}

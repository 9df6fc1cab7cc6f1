/**
 * The bus in domain verbs: dispatch a task, complete one, announce a run's events, follow
 * them, and the request lane (a worker asks a coordinator for a run transition and waits for
 * the answer; workers still talk only to the bus). Topic names and message types meet here and
 * nowhere else.
 * @module
 */
import { TERMINAL_EVENT_TYPES, type RunEvent } from '../engine/state.ts'
import { ErrorCode, RetryableError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { CompletionSignal, Reply, Request, Task } from '../model/messages.ts'
import { CHANNELS, TOPICS, type Bus } from '../ports/bus.ts'

export interface Lanes {
  /** Publishes a task on its type's topic (after its `delay_ms`, when set). */
  dispatch(task: Task): Promise<void>
  /** Publishes a worker's completion signal. */
  complete(signal: CompletionSignal): Promise<void>
  /**
   * Broadcasts committed events to live followers and keeps them in the run's bounded history
   * (the fanout's replay); best effort (followers read the store too).
   */
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

/** Events a run keeps in the bus for followers that resume (the fanout); older ones: the API. */
export const HISTORY_CAP = 1_000
const HISTORY_TTL_MS = 7 * 86_400_000
/** After its end, a run's history stays this long (clients catching up on the last events). */
const ENDED_HISTORY_TTL_MS = 3_600_000
/** The events of the run-level feed (SPEC §5: `{"type":"subscribe","scope":"runs"}`). */
export const RUN_LEVEL_EVENTS: ReadonlySet<string> = new Set([
  'run_started',
  'run_completed',
  'run_failed',
  'run_cancelled',
  'approval_required',
  'approval_decided',
])

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
      const runLevel = events.filter((e) => RUN_LEVEL_EVENTS.has(e.type))
      const ended = events.some((e) => TERMINAL_EVENT_TYPES.includes(e.type))
      await bus
        .record(
          runId,
          events.map((e) => ({ seq: e.seq, body: JSON.stringify(e) })),
          {
            channel: CHANNELS.runEvents(runId),
            ...(runLevel.length
              ? { extra: { channel: CHANNELS.runsFeed, payload: runLevel } }
              : {}),
          },
          { cap: HISTORY_CAP, ttlMs: ended ? ENDED_HISTORY_TTL_MS : HISTORY_TTL_MS }
        )
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

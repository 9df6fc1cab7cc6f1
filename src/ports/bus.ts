/**
 * Moves work between services: topics with consumer groups (each message goes to one consumer
 * of each group and stays pending until acked; idle pending messages can be reclaimed by
 * another consumer), delayed publishing, and fire-and-forget notifications for live events.
 * The embedded adapter keeps queues in memory; the distributed one uses Redis Streams.
 * @module
 */
import type { Admission, GcraRule } from '../rate-limit.ts'

export interface Delivery<T = unknown> {
  id: string
  msg: T
  /** How many times this message has been delivered (1 on first delivery). */
  deliveries: number
}

export interface ConsumeOptions {
  /** At most this many messages. */
  count: number
  /** Wait up to this long for a message; resolves with [] after it. */
  blockMs: number
}

export interface Bus {
  /** Appends `msg` to `topic` (after `delayMs`, when given). */
  publish(topic: string, msg: unknown, opts?: { delayMs?: number }): Promise<void>
  /** New messages for `consumer` of `group` (the group is created at the topic's start). */
  consume<T>(
    topic: string,
    group: string,
    consumer: string,
    opts: ConsumeOptions
  ): Promise<Delivery<T>[]>
  ack(topic: string, group: string, ids: string[]): Promise<void>
  /** Moves messages pending longer than `minIdleMs` to `consumer` and returns them. */
  reclaim<T>(
    topic: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number
  ): Promise<Delivery<T>[]>
  /**
   * Messages of `topic` that `group` has not finished: not yet delivered, or delivered and not
   * acked (delayed ones not yet due are not counted). For queue-depth metrics and for waiting
   * until a group has caught up.
   */
  depth(topic: string, group: string): Promise<number>
  /** Marks messages as still being worked on (resets their idle time). */
  touch(topic: string, group: string, consumer: string, ids: string[]): Promise<void>
  /**
   * Keeps `entries` (a run's events of one transition, by seq) in the run's bounded history —
   * at least the newest `opts.cap` events (Redis keeps `cap` batches), for `opts.ttlMs` after
   * the last write when given — and, in the same step,
   * notifies `notify.channel` with the entries as one JSON array (and `notify.extra` when
   * given). The fanout replays from this history; Postgres keeps everything.
   */
  record(
    runId: string,
    entries: { seq: number; body: string }[],
    notify: { channel: string; extra?: { channel: string; payload: unknown } },
    opts: { cap: number; ttlMs?: number }
  ): Promise<void>
  /** The run's kept events with seq > `afterSeq`, oldest first, at most `limit`. */
  history(runId: string, afterSeq: number, limit: number): Promise<{ seq: number; body: string }[]>
  /** The lowest seq the run's history still holds, or null when it holds none. */
  historyStart(runId: string): Promise<number | null>
  /** Broadcasts to current subscribers of `channel`; nothing is kept. */
  notify(channel: string, payload: unknown): Promise<void>
  subscribe(channel: string, listener: (payload: unknown) => void): Promise<() => void>
  /**
   * True once, to exactly one caller, when the bus is new or has lost its contents (Redis
   * restarted without persistence, or flushed): the caller then rebuilds in-flight work from
   * the store. False otherwise.
   */
  claimFreshStart(): Promise<boolean>
  /**
   * A worker's scratch state of one run (the agent's checkpoints), kept for `ttlMs` after its
   * last write. Lost with the bus contents: then the work starts over, which is correct, only
   * slower. `runId` scopes the key (Redis: the run's hash tag).
   */
  putState(runId: string, key: string, value: string, ttlMs: number): Promise<void>
  getState(runId: string, key: string): Promise<string | null>
  /** Reads and removes a scratch state in one step: of racing callers, one gets it. */
  takeState(runId: string, key: string): Promise<string | null>
  /**
   * One GCRA step of the rate-limit budget `key` (src/rate-limit.ts): admits a request or says
   * when one fits. Atomic, and shared by every process on this bus.
   */
  admit(key: string, rule: GcraRule): Promise<Admission>
  ping(): Promise<void>
  close(): Promise<void>
}

/** Topic and channel names: used only by `runs/lanes.ts` (and the adapters' tests). */
export const TOPICS = {
  tasks: (type: string) => `wf.tasks.${type}`,
  completions: 'wf.completions',
  /** Workers asking a coordinator for a run transition (the request lane). */
  requests: 'wf.requests',
} as const

export const CHANNELS = {
  runEvents: (runId: string) => `run.${runId}.events`,
  /** Run-level events of every run (lists and inboxes). */
  runsFeed: 'runs.events',
  reply: (requestId: string) => `reply.${requestId}`,
} as const

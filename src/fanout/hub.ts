/**
 * The fanout (SPEC §5): run events to any number of WebSocket clients, on Bun's native
 * WebSocket with its topic pub/sub. It needs only the bus: each run followed here has a feed —
 * the run's bounded history read from the bus, then its live events — delivered in seq order to
 * the topic `run:<id>`. A client subscribing with `after` gets, in one synchronous step (so no
 * publish can come between), `subscribed`, the kept events after `after` (or a `gap` for what
 * the history no longer holds), and the topic: no gap and no duplicate across the seam.
 * Events that arrive out of order (two processes announcing) wait for the missing ones, which
 * are read from the history; events the history never got are reported as a `gap`. A client
 * whose send buffer passes `bufferBytes` is closed with 1013: Bun buffers per client, so one
 * stuck client never slows the others.
 * @module
 */
import type { Server, ServerWebSocket } from 'bun'
import { createMetrics, type Metrics } from '../metrics.ts'
import type { RunEvent } from '../engine/state.ts'
import { isRunId } from '../ids.ts'
import type { Logger } from '../log.ts'
import { CHANNELS, type Bus } from '../ports/bus.ts'
import { HISTORY_CAP } from '../runs/lanes.ts'
import { bearerToken, type Principal } from '../orchestrator/auth.ts'

export interface ClientData {
  principal: Principal
  runs: Set<string>
  /** Runs still being replayed to this client (paced by its send buffer), by cursor seq. */
  replays?: Map<string, number>
  /** Sweeps in a row that found its send buffer over the limit. */
  overLimit?: number
  /** For the upgrade's `?run=&after=`: subscribed once open. */
  initial?: { run: string; after: number }
}

export type FanoutSocket = ServerWebSocket<ClientData>

export interface FanoutOptions {
  bus: Bus
  log: Logger
  authenticate(token: string): Principal | null
  /** A client whose unsent bytes pass this is closed (1013). */
  bufferBytes: number
  metrics?: Metrics
  /** How long out-of-order events wait for the missing ones before a gap is declared. */
  reorderMs?: number
  /** How often send buffers are checked. */
  sweepMs?: number
}

export interface Fanout {
  /** Answers an upgrade request for `/ws` (401 before the upgrade when the token is bad). */
  upgrade(
    req: Request,
    server: Server<ClientData>,
    /** The token of the web UI's session cookie, when the request has one. */
    sessionToken?: string | null
  ): Response | undefined
  websocket: Bun.WebSocketHandler<ClientData>
  /** A run's events after `after` and then live, in order (for SSE); null for an unknown run. */
  follow(run: string, after: number, signal: AbortSignal): AsyncGenerator<RunEvent> | null
  connections(): number
  metrics: Metrics
  stop(): Promise<void>
}

const RUNS_TOPIC = 'runs'
const topicOf = (run: string) => `run:${run}`
/** A feed nobody follows is dropped after this long. */
const IDLE_FEED_MS = 30_000
const MAX_FEEDS = 50_000

interface Feed {
  run: string
  /** Kept events, by seq order (the bus history's window). */
  events: RunEvent[]
  /** Highest seq delivered to the topic (everything up to it is contiguous or declared a gap). */
  last: number
  /** Out-of-order arrivals waiting for the missing seqs. */
  early: Map<number, RunEvent>
  sockets: Set<FanoutSocket>
  /** Sockets being replayed to (not on the topic yet): pumped as events arrive. */
  replaying: Set<FanoutSocket>
  /** Listeners of `follow` (SSE). */
  followers: Set<(e: RunEvent | { gap: [number, number] }) => void>
  unsubscribe(): void
  idleTimer?: ReturnType<typeof setTimeout>
  reorderTimer?: ReturnType<typeof setTimeout>
  unknown: boolean
}

export function createFanout(opts: FanoutOptions): Fanout {
  const { bus, log } = opts
  const metrics = opts.metrics ?? createMetrics()
  const reorderMs = opts.reorderMs ?? 500
  const feeds = new Map<string, Promise<Feed>>()
  const sockets = new Set<FanoutSocket>()
  let server: Server<ClientData> | undefined
  let runsFeed: (() => void) | undefined
  let closed = false

  // One serialisation per event, whichever clients it goes to (live or replayed).
  const messages = new WeakMap<RunEvent, string>()
  const messageOf = (ev: RunEvent) => {
    let msg = messages.get(ev)
    if (msg === undefined) messages.set(ev, (msg = JSON.stringify({ type: 'event', event: ev })))
    return msg
  }
  const send = (ws: FanoutSocket, msg: string) => {
    ws.send(msg)
    metrics.fanoutMessages.inc()
  }
  const publish = (feed: Feed, msg: string) => {
    if (feed.sockets.size) {
      server?.publish(topicOf(feed.run), msg)
      metrics.fanoutMessages.inc(feed.sockets.size)
    }
  }
  // A client whose buffer stays over the limit for two sweeps does not read: it goes (1013).
  const sweep = setInterval(() => {
    for (const ws of sockets) {
      if (ws.readyState !== 1) continue
      if (ws.getBufferedAmount() <= opts.bufferBytes) {
        ws.data.overLimit = 0
        continue
      }
      ws.data.overLimit = (ws.data.overLimit ?? 0) + 1
      if (ws.data.overLimit < 2) continue
      metrics.websocketDropped.inc()
      ws.close(1013, 'too slow: the send buffer is full; reconnect with your last seq')
    }
  }, opts.sweepMs ?? 250)
  sweep.unref?.()

  /**
   * Replays a run's kept events to one client while its send buffer has room, from its cursor;
   * once caught up with the feed it joins the topic — in the same synchronous step, so no
   * publish falls between. Resumed by `drain`.
   */
  const pump = (ws: FanoutSocket, feed: Feed) => {
    const replays = ws.data.replays
    let cursor = replays?.get(feed.run)
    if (cursor === undefined || ws.readyState !== 1) {
      feed.replaying.delete(ws)
      return
    }
    feed.replaying.add(ws)
    const first = feed.events[0]?.seq ?? feed.last + 1
    if (cursor + 1 < first) {
      send(ws, JSON.stringify({ type: 'gap', run: feed.run, from: cursor + 1, to: first - 1 }))
      cursor = first - 1
    }
    const from = cursor
    let i = feed.events.findIndex((e) => e.seq > from)
    while (i !== -1 && i < feed.events.length) {
      if (ws.getBufferedAmount() > opts.bufferBytes) {
        replays?.set(feed.run, cursor)
        return
      }
      const ev = feed.events[i++]
      send(ws, messageOf(ev))
      cursor = ev.seq
    }
    replays?.set(feed.run, cursor)
    // Caught up: it joins the topic. A client ahead of the feed (after > last) waits for it.
    if (cursor < feed.last) return
    if (cursor > feed.last) {
      feed.replaying.add(ws)
      return
    }
    replays?.delete(feed.run)
    feed.replaying.delete(ws)
    ws.subscribe(topicOf(feed.run))
  }

  /** Delivers what is contiguous after `feed.last`; waits (then reads the history) for holes. */
  const advance = (feed: Feed) => {
    for (const seq of feed.early.keys()) if (seq <= feed.last) feed.early.delete(seq)
    while (feed.early.has(feed.last + 1)) {
      const ev = feed.early.get(feed.last + 1) as RunEvent
      feed.early.delete(ev.seq)
      deliver(feed, ev)
    }
    if (feed.early.size && !feed.reorderTimer)
      feed.reorderTimer = setTimeout(() => {
        feed.reorderTimer = undefined
        fillHoles(feed).catch((e) => log.warn({ err: e, run_id: feed.run }, 'fanout refill failed'))
      }, reorderMs)
  }
  const deliver = (feed: Feed, ev: RunEvent) => {
    // Commit (the event's ts) to send, in seconds: what a watcher waits.
    metrics.publishToSend.observe(Math.max(0, Date.now() - Date.parse(ev.ts)) / 1000)
    feed.last = ev.seq
    feed.events.push(ev)
    if (feed.events.length > HISTORY_CAP) feed.events.splice(0, feed.events.length - HISTORY_CAP)
    publish(feed, messageOf(ev))
    for (const ws of feed.replaying) pump(ws, feed)
    for (const f of feed.followers) f(ev)
  }
  const fillHoles = async (feed: Feed) => {
    if (!feed.early.size) return
    for (const { body } of await bus.history(feed.run, feed.last, HISTORY_CAP)) {
      const ev = JSON.parse(body) as RunEvent
      if (ev.seq > feed.last && !feed.early.has(ev.seq)) feed.early.set(ev.seq, ev)
    }
    advance(feed)
    if (!feed.early.size) return
    // What the history never got (its announcer died): say so, and go on.
    const next = Math.min(...feed.early.keys())
    const gap = { type: 'gap', run: feed.run, from: feed.last + 1, to: next - 1 }
    publish(feed, JSON.stringify(gap))
    for (const f of feed.followers) f({ gap: [gap.from, gap.to] })
    feed.last = next - 1
    advance(feed)
  }

  const openFeed = async (run: string): Promise<Feed> => {
    const feed: Feed = {
      run,
      events: [],
      last: 0,
      early: new Map(),
      sockets: new Set(),
      replaying: new Set(),
      followers: new Set(),
      unsubscribe: () => {},
      unknown: false,
    }
    let ready = false
    const buffered: RunEvent[] = []
    // Live first, then the history: nothing announced between the two is missed.
    feed.unsubscribe = await bus.subscribe(CHANNELS.runEvents(run), (payload) => {
      const events = payload as RunEvent[]
      if (!ready) buffered.push(...events)
      else {
        for (const ev of events) if (ev.seq > feed.last) feed.early.set(ev.seq, ev)
        advance(feed)
      }
    })
    // The newest events the bus keeps (it may keep more than this window).
    const kept = (await bus.history(run, 0, Number.MAX_SAFE_INTEGER))
      .slice(-HISTORY_CAP)
      .map((h) => JSON.parse(h.body) as RunEvent)
    feed.unknown = kept.length === 0 && buffered.length === 0
    for (const ev of kept) {
      if (feed.events.length && ev.seq !== feed.last + 1) feed.early.set(ev.seq, ev)
      else {
        feed.events.push(ev)
        feed.last = ev.seq
      }
    }
    if (!feed.events.length && kept.length) {
      // The history starts later than seq 1 (trimmed): its first event is where the feed starts.
      feed.last = kept[0].seq - 1
    }
    ready = true
    for (const ev of buffered) if (ev.seq > feed.last) feed.early.set(ev.seq, ev)
    advance(feed)
    return feed
  }
  const feedOf = async (run: string): Promise<Feed> => {
    let p = feeds.get(run)
    if (!p) {
      if (feeds.size >= MAX_FEEDS) dropIdleFeeds()
      p = openFeed(run)
      feeds.set(run, p)
      p.catch(() => feeds.delete(run))
    }
    const feed = await p
    if (feed.idleTimer) clearTimeout(feed.idleTimer)
    feed.idleTimer = undefined
    return feed
  }
  const release = (feed: Feed) => {
    if (feed.sockets.size || feed.followers.size || feed.idleTimer) return
    feed.idleTimer = setTimeout(() => closeFeed(feed), IDLE_FEED_MS)
    feed.idleTimer.unref?.()
  }
  const closeFeed = (feed: Feed) => {
    if (feed.sockets.size || feed.followers.size) return
    feeds.delete(feed.run)
    feed.unsubscribe()
    if (feed.reorderTimer) clearTimeout(feed.reorderTimer)
  }
  const dropIdleFeeds = () => {
    for (const p of feeds.values())
      p.then((f) => {
        if (!f.sockets.size && !f.followers.size) closeFeed(f)
      })
  }

  const error = (ws: FanoutSocket, code: string, message: string) =>
    send(ws, JSON.stringify({ type: 'error', code, message }))

  const subscribe = async (ws: FanoutSocket, run: unknown, after: unknown) => {
    if (typeof run !== 'string' || !isRunId(run))
      return error(ws, 'BAD_MESSAGE', 'run must be a run id')
    const from = after === undefined ? 0 : after
    if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0)
      return error(ws, 'BAD_MESSAGE', 'after must be a non-negative integer (a seq)')
    if (ws.data.runs.has(run))
      return error(ws, 'ALREADY_SUBSCRIBED', `already subscribed to ${run}`)
    const feed = await feedOf(run)
    if (ws.readyState !== 1) return release(feed)
    if (feed.unknown && feed.last === 0) {
      release(feed)
      return error(
        ws,
        'RUN_NOT_FOUND',
        `run ${run} is unknown here (or its history expired): read GET /api/v1/runs/${run}/events`
      )
    }
    ws.data.runs.add(run)
    feed.sockets.add(ws)
    send(ws, JSON.stringify({ type: 'subscribed', run, last_seq: feed.last }))
    ;(ws.data.replays ??= new Map()).set(run, from)
    pump(ws, feed)
  }
  const unsubscribe = async (ws: FanoutSocket, run: unknown) => {
    if (typeof run !== 'string' || !ws.data.runs.has(run))
      return error(ws, 'NOT_SUBSCRIBED', 'not subscribed to that run')
    ws.unsubscribe(topicOf(run))
    ws.data.runs.delete(run)
    ws.data.replays?.delete(run)
    const feed = await feeds.get(run)
    if (feed) {
      feed.sockets.delete(ws)
      feed.replaying.delete(ws)
      release(feed)
    }
    send(ws, JSON.stringify({ type: 'unsubscribed', run }))
  }
  const subscribeRuns = async (ws: FanoutSocket) => {
    if (!runsFeed)
      runsFeed = await bus.subscribe(CHANNELS.runsFeed, (payload) => {
        for (const ev of payload as RunEvent[])
          server?.publish(RUNS_TOPIC, JSON.stringify({ type: 'event', event: ev }))
      })
    ws.subscribe(RUNS_TOPIC)
    send(ws, JSON.stringify({ type: 'subscribed', scope: 'runs' }))
  }

  return {
    metrics,
    connections: () => sockets.size,
    upgrade(req, s, sessionToken) {
      server = s
      const url = new URL(req.url)
      const token =
        bearerToken(req.headers.get('authorization')) ??
        url.searchParams.get('token') ??
        sessionToken ??
        null
      const principal = token ? opts.authenticate(token) : null
      if (!principal)
        return Response.json(
          {
            error: {
              code: 'UNAUTHORIZED',
              message: 'a valid token is needed (Authorization: Bearer, or ?token=)',
              details: [],
            },
          },
          { status: 401 }
        )
      const run = url.searchParams.get('run')
      const after = Number(url.searchParams.get('after') ?? 0)
      const data: ClientData = { principal, runs: new Set() }
      if (run !== null) data.initial = { run, after }
      if (s.upgrade(req, { data })) return undefined
      return Response.json(
        { error: { code: 'BAD_REQUEST', message: 'expected a WebSocket upgrade', details: [] } },
        { status: 400 }
      )
    },
    websocket: {
      // The hard cap behind the sweep (a burst that fills a client's buffer this far closes it).
      backpressureLimit: Math.max(opts.bufferBytes * 8, 8 * 1024 * 1024),
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPings: true,
      open(ws) {
        sockets.add(ws)
        metrics.websocketConnections.set(sockets.size)
        if (ws.data.initial) {
          const { run, after } = ws.data.initial
          subscribe(ws, run, Number.isFinite(after) ? after : 0).catch((e) =>
            log.warn({ err: e }, 'fanout subscribe failed')
          )
        }
      },
      message(ws, raw) {
        let msg: { type?: unknown; run?: unknown; after?: unknown; scope?: unknown }
        try {
          msg = JSON.parse(typeof raw === 'string' ? raw : new TextDecoder().decode(raw))
        } catch {
          return error(ws, 'BAD_MESSAGE', 'messages are JSON objects')
        }
        if (!msg || typeof msg !== 'object' || Array.isArray(msg))
          return error(ws, 'BAD_MESSAGE', 'messages are JSON objects')
        const done = (p: Promise<void> | void) =>
          Promise.resolve(p).catch((e) => {
            log.warn({ err: e }, 'fanout message failed')
            error(ws, 'UNAVAILABLE', 'the event history cannot be read right now; try again')
          })
        switch (msg.type) {
          case 'ping':
            return send(ws, '{"type":"pong"}')
          case 'subscribe':
            if (msg.scope === 'runs') return done(subscribeRuns(ws))
            if (msg.scope !== undefined) return error(ws, 'BAD_MESSAGE', 'scope must be "runs"')
            return done(subscribe(ws, msg.run, msg.after))
          case 'unsubscribe':
            return done(unsubscribe(ws, msg.run))
          default:
            return error(ws, 'BAD_MESSAGE', 'type must be subscribe, unsubscribe or ping')
        }
      },
      drain(ws) {
        for (const run of ws.data.replays?.keys() ?? [])
          feeds.get(run)?.then((feed) => pump(ws, feed))
      },
      close(ws) {
        sockets.delete(ws)
        metrics.websocketConnections.set(sockets.size)
        for (const run of ws.data.runs)
          feeds.get(run)?.then((feed) => {
            feed.sockets.delete(ws)
            feed.replaying.delete(ws)
            release(feed)
          })
      },
    },
    follow(run, after, signal) {
      if (!isRunId(run)) return null
      return followFeed(run, after, signal)
    },
    async stop() {
      closed = true
      clearInterval(sweep)
      for (const ws of sockets) ws.close(1001, 'going away')
      runsFeed?.()
      for (const p of feeds.values()) p.then((f) => f.unsubscribe()).catch(() => {})
      feeds.clear()
    },
  }

  async function* followFeed(run: string, after: number, signal: AbortSignal) {
    const feed = await feedOf(run)
    const queue: (RunEvent | { gap: [number, number] })[] = []
    let wake = () => {}
    let cursor = after
    const listener = (e: RunEvent | { gap: [number, number] }) => {
      if ('seq' in e) {
        if (e.seq <= cursor) return
        cursor = e.seq
      }
      queue.push(e)
      wake()
    }
    // Synchronously: the kept events after `after`, then live ones (the same seam as WebSocket).
    for (const ev of feed.events) listener(ev)
    feed.followers.add(listener)
    signal.addEventListener('abort', () => wake())
    try {
      while (!signal.aborted && !closed) {
        const next = queue.shift()
        if (next && 'seq' in next) yield next
        else if (!next) await new Promise<void>((r) => (wake = r))
      }
    } finally {
      feed.followers.delete(listener)
      release(feed)
    }
  }
}

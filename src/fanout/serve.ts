/**
 * The fanout's HTTP side: `/ws` (the WebSocket protocol of SPEC §5), the SSE of a run from the
 * same feeds (`/api/v1/runs/:id/events/stream`), `/health` and `/metrics` — what `aob-fanout`
 * serves, needing only the bus. `aob dev` and the orchestrator serve `/ws` beside the API.
 * @module
 */
import type { Server } from 'bun'
import type { Config } from '../config.ts'
import { TERMINAL_EVENT_TYPES } from '../engine/state.ts'
import type { Logger } from '../log.ts'
import { bearerToken, createAuthenticator } from '../orchestrator/auth.ts'
import type { HttpService } from '../orchestrator/start.ts'
import type { Bus } from '../ports/bus.ts'
import { metricsResponse, type Metrics } from '../metrics.ts'
import { VERSION } from '../version.ts'
import { createFanout, type ClientData, type Fanout } from './hub.ts'

export interface FanoutDeps {
  bus: Bus
  log: Logger
  config: Config
  metrics?: Metrics
}

export function fanoutFor(deps: FanoutDeps): Fanout {
  return createFanout({
    bus: deps.bus,
    log: deps.log.child({ svc: 'fanout' }),
    authenticate: createAuthenticator(deps.config.tokens),
    bufferBytes: deps.config.fanoutBufferBytes,
    metrics: deps.metrics,
  })
}

const json = (status: number, code: string, message: string) =>
  Response.json({ error: { code, message, details: [] } }, { status })

export interface FanoutService extends HttpService {
  fanout: Fanout
}

export function startFanoutServer(
  deps: FanoutDeps,
  opts: { host: string; port: number; keepAliveMs?: number }
): FanoutService {
  const fanout = fanoutFor(deps)
  const authenticate = createAuthenticator(deps.config.tokens)
  const started = Date.now()
  const keepAliveMs = opts.keepAliveMs ?? 5_000
  const server: Server<ClientData> = Bun.serve<ClientData>({
    hostname: opts.host,
    port: opts.port,
    idleTimeout: 30,
    websocket: fanout.websocket,
    async fetch(req, s) {
      const url = new URL(req.url)
      if (url.pathname === '/ws') return fanout.upgrade(req, s)
      if (url.pathname === '/health') {
        const redis = await deps.bus.ping().then(
          () => 'ok',
          (e: Error) => `error: ${e.message}`
        )
        return Response.json(
          {
            status: redis === 'ok' ? 'ok' : 'degraded',
            service: 'aob-fanout',
            version: VERSION,
            uptime: (Date.now() - started) / 1000,
            connections: fanout.connections(),
            dependencies: { redis, postgres: 'not used' },
          },
          { status: redis === 'ok' ? 200 : 503 }
        )
      }
      const token = bearerToken(req.headers.get('authorization')) ?? url.searchParams.get('token')
      if (!token || !authenticate(token))
        return json(
          401,
          'UNAUTHORIZED',
          'a valid token is needed (Authorization: Bearer, or ?token=)'
        )
      if (url.pathname === '/metrics') return metricsResponse(fanout.metrics)
      const m = /^\/api\/v1\/runs\/([^/]+)\/events\/stream$/.exec(url.pathname)
      if (m) {
        const raw = req.headers.get('last-event-id') ?? url.searchParams.get('after') ?? '0'
        const after = Number(raw)
        if (!Number.isSafeInteger(after) || after < 0)
          return json(400, 'BAD_REQUEST', 'Last-Event-ID / after must be a non-negative integer')
        return sse(fanout, decodeURIComponent(m[1]), after, keepAliveMs, req.signal)
      }
      return json(404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`)
    },
  })
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${server.port}`
  deps.log.info({ url }, 'fanout listening')
  return {
    name: 'fanout',
    fanout,
    url,
    port: server.port as number,
    async stop() {
      await fanout.stop()
      await server.stop(true)
    },
  }
}

/** SSE of a run from the fanout's feed: `id:` = seq, keep-alive comments, ends after its end. */
function sse(fanout: Fanout, run: string, after: number, keepAliveMs: number, signal: AbortSignal) {
  const abort = new AbortController()
  signal.addEventListener('abort', () => abort.abort())
  const events = fanout.follow(run, after, abort.signal)
  if (!events) return json(404, 'RUN_NOT_FOUND', `run ${run.slice(0, 80)} not found`)
  const encoder = new TextEncoder()
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const keepAlive = setInterval(
        () => controller.enqueue(encoder.encode(': keep-alive\n\n')),
        keepAliveMs
      )
      try {
        for await (const ev of events) {
          controller.enqueue(
            encoder.encode(`id: ${ev.seq}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`)
          )
          if (TERMINAL_EVENT_TYPES.includes(ev.type)) break
        }
      } finally {
        clearInterval(keepAlive)
        abort.abort()
        try {
          controller.close()
        } catch {}
      }
    },
    cancel() {
      abort.abort()
    },
  })
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  })
}

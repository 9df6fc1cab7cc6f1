/** Serves the API with Bun.serve. @module */
import type { Kernel } from '../kernel.ts'
import type { Service } from '../worker/consumer.ts'
import { createApp, type AppOptions } from './app.ts'
import type { ClientData } from '../fanout/hub.ts'
import { fanoutFor } from '../fanout/serve.ts'
import { createSessions, sessionTokenOf } from '../ui/session.ts'

export interface ServeOptions extends AppOptions {
  host: string
  port: number
}

export interface HttpService extends Service {
  url: string
  port: number
}

export function startOrchestrator(kernel: Kernel, opts: ServeOptions): HttpService {
  const app = createApp(kernel, opts)
  // The fanout's WebSocket on the API's port (aob dev's one port; SPEC §5).
  const fanout = fanoutFor(kernel)
  const sessions = createSessions(kernel.bus)
  const server = Bun.serve<ClientData>({
    hostname: opts.host,
    port: opts.port,
    async fetch(req, s) {
      if (new URL(req.url).pathname !== '/ws') return app.fetch(req)
      // A signed-in page of the web UI authenticates its WebSocket with the session cookie.
      const session = req.headers.has('cookie') ? await sessionTokenOf(sessions, req) : null
      return fanout.upgrade(req, s, session)
    },
    websocket: fanout.websocket,
    idleTimeout: 30,
  })
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${server.port}`
  kernel.log.info({ url }, 'API listening')
  return {
    name: 'orchestrator',
    url,
    port: server.port as number,
    async stop() {
      await fanout.stop()
      await server.stop(true)
    },
  }
}

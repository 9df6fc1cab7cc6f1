/** Serves the API with Bun.serve. @module */
import type { Kernel } from '../kernel.ts'
import type { Service } from '../worker/consumer.ts'
import { createApp, type AppOptions } from './app.ts'
import type { ClientData } from '../fanout/hub.ts'
import { fanoutFor } from '../fanout/serve.ts'

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
  const server = Bun.serve<ClientData>({
    hostname: opts.host,
    port: opts.port,
    fetch: (req, s) =>
      new URL(req.url).pathname === '/ws' ? fanout.upgrade(req, s) : app.fetch(req),
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

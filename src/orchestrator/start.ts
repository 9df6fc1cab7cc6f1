/** Serves the API with Bun.serve. @module */
import type { Kernel } from '../kernel.ts'
import type { Service } from '../worker/consumer.ts'
import { createApp, type AppOptions } from './app.ts'

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
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    fetch: app.fetch,
    idleTimeout: 30,
  })
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${server.port}`
  kernel.log.info({ url }, 'API listening')
  return {
    name: 'orchestrator',
    url,
    port: server.port as number,
    async stop() {
      await server.stop(true)
    },
  }
}

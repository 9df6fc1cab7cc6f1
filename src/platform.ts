/**
 * The whole platform in one process on one kernel (what `aob dev` runs): the API, the
 * coordinator and the built-in workers, the same `start` functions the separate binaries use.
 * @module
 */
import { startCoordinator } from './coordinator/coordinator.ts'
import type { Kernel } from './kernel.ts'
import { startOrchestrator, type HttpService } from './orchestrator/start.ts'
import type { GuardedFetch } from './net/guarded-fetch.ts'
import { builtinHandlers } from './worker/builtin.ts'
import type { Service } from './worker/consumer.ts'
import { startWorker, type Handler } from './worker/run-worker.ts'

export interface PlatformOptions {
  host: string
  port: number
  /** Extra node types to serve beside the built-ins (http; later hitl, agent). */
  handlers?: Record<string, Handler>
  /** The SSRF-guarded client for http_request pipeline steps. */
  fetch?: GuardedFetch
  keepAliveMs?: number
}

export interface Platform {
  api: HttpService
  services: Service[]
  stop(): Promise<void>
}

export async function startPlatform(kernel: Kernel, opts: PlatformOptions): Promise<Platform> {
  const services: Service[] = []
  services.push(await startCoordinator(kernel))
  for (const [type, handler] of Object.entries({ ...builtinHandlers(opts.fetch), ...opts.handlers })) {
    services.push(startWorker(kernel, { type, handler }))
  }
  const api = startOrchestrator(kernel, { host: opts.host, port: opts.port, service: 'aob-dev', keepAliveMs: opts.keepAliveMs })
  services.push(api)
  return {
    api,
    services,
    async stop() {
      for (const s of [...services].reverse()) await s.stop()
    },
  }
}

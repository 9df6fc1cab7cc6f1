/**
 * The whole platform in one process on one kernel (what `aob dev` runs): the API, the
 * coordinator and the workers, through the same `start` functions the separate binaries call.
 * @module
 */
import { startCoordinator } from '../src/coordinator/coordinator.ts'
import type { Kernel } from '../src/kernel.ts'
import type { GuardedFetch } from '../src/net/guarded-fetch.ts'
import { startOrchestrator, type HttpService } from '../src/orchestrator/start.ts'
import type { Service } from '../src/worker/consumer.ts'
import { startBuiltinWorker } from '../workers/builtin/start.ts'
import { startAgentWorker } from '../workers/agent/start.ts'
import { startHitlWorker } from '../workers/hitl/start.ts'
import { startHttpWorker } from '../workers/http/start.ts'

export interface PlatformOptions {
  host: string
  port: number
  /** The SSRF-guarded client of http nodes and http_request steps (default: from the config). */
  fetch?: GuardedFetch
  keepAliveMs?: number
}

export interface Platform {
  api: HttpService
  services: Service[]
  stop(): Promise<void>
}

export async function startPlatform(kernel: Kernel, opts: PlatformOptions): Promise<Platform> {
  const services: Service[] = [
    await startCoordinator(kernel, { visibilityMs: kernel.config.visibilityMs }),
  ]
  services.push(
    ...startBuiltinWorker(kernel, { fetch: opts.fetch }),
    ...startHttpWorker(kernel, { fetch: opts.fetch }),
    ...startHitlWorker(kernel, { fetch: opts.fetch }),
    ...startAgentWorker(kernel, { fetch: opts.fetch })
  )
  const api = startOrchestrator(kernel, {
    host: opts.host,
    port: opts.port,
    service: 'aob-dev',
    keepAliveMs: opts.keepAliveMs,
  })
  services.push(api)
  return {
    api,
    services,
    async stop() {
      for (const s of [...services].reverse()) await s.stop()
    },
  }
}

/** The http worker: `start(kernel)`, called by `aob-http-worker` and by `aob dev` alike. */
import type { Config } from '../../src/config.ts'
import type { BusKernel } from '../../src/kernel.ts'
import { createGuardedFetch, type GuardedFetch } from '../../src/net/guarded-fetch.ts'
import { createPolicy } from '../../src/net/policy.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker } from '../../src/worker/run-worker.ts'
import { createHttpHandler } from './handler.ts'

export type WorkerKernel = Pick<BusKernel, 'bus' | 'lanes' | 'log' | 'config' | 'metrics'>

/** The SSRF-guarded client, configured from the process config. */
export function httpGuard(config: Config): GuardedFetch {
  return createGuardedFetch({
    policy: createPolicy({
      allow: config.httpAllow,
      ports: config.httpPorts,
      deniedPaths: config.httpDeniedPaths,
    }),
  })
}

export function startHttpWorker(
  kernel: WorkerKernel,
  opts: { fetch?: GuardedFetch } = {}
): Service[] {
  const handler = createHttpHandler(opts.fetch ?? httpGuard(kernel.config))
  return [
    startWorker(kernel, {
      type: 'http',
      handler,
      visibilityMs: kernel.config.visibilityMs,
      concurrency: kernel.config.concurrency,
    }),
  ]
}

/** Starts the http worker on a bus, with the guard configured from the process config. */
import type { Config } from '../../src/config.ts'
import type { BusKernel } from '../../src/kernel.ts'
import { createGuardedFetch } from '../../src/net/guarded-fetch.ts'
import { createPolicy } from '../../src/net/policy.ts'
import { startWorker } from '../../src/worker/run-worker.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { createHttpHandler } from './handler.ts'

export function httpGuard(config: Config) {
  return createGuardedFetch({ policy: createPolicy({ allow: config.httpAllow, ports: config.httpPorts, deniedPaths: config.httpDeniedPaths }) })
}

export function startHttpWorker(kernel: Pick<BusKernel, 'bus' | 'log' | 'config'>): Service {
  return startWorker(kernel, { type: 'http', handler: createHttpHandler(httpGuard(kernel.config)), visibilityMs: kernel.config.visibilityMs, concurrency: kernel.config.concurrency })
}

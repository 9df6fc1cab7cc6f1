/** The hitl worker: `start(kernel)`, called by `aob-hitl-worker` and by `aob dev` alike. */
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker } from '../../src/worker/run-worker.ts'
import { httpGuard, type WorkerKernel } from '../http/start.ts'
import { createHitlHandler } from './handler.ts'

export function startHitlWorker(
  kernel: WorkerKernel,
  opts: { fetch?: GuardedFetch } = {}
): Service[] {
  return [
    startWorker(kernel, {
      type: 'hitl',
      handler: createHitlHandler(opts.fetch ?? httpGuard(kernel.config)),
      visibilityMs: kernel.config.visibilityMs,
      concurrency: kernel.config.concurrency,
    }),
  ]
}

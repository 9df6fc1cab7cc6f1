/**
 * The built-in worker (noop, sleep, transform; `AOB_WORKER_TYPES` picks some): `start(kernel)`,
 * called by `aob-builtin-worker` and by `aob dev` alike.
 */
import { ConfigError } from '../../src/config.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import { BUILTIN_TYPES, builtinHandlers } from '../../src/worker/builtin.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker } from '../../src/worker/run-worker.ts'
import { httpGuard, type WorkerKernel } from '../http/start.ts'

export function startBuiltinWorker(
  kernel: WorkerKernel,
  opts: { fetch?: GuardedFetch } = {}
): Service[] {
  const handlers = builtinHandlers(opts.fetch ?? httpGuard(kernel.config))
  const types = kernel.config.workerTypes ?? [...BUILTIN_TYPES]
  const unknown = types.filter((t) => !(t in handlers))
  if (unknown.length)
    throw new ConfigError(
      `AOB_WORKER_TYPES: ${unknown.join(', ')} not served by this worker (it serves ${BUILTIN_TYPES.join(', ')})`
    )
  return types.map((type) =>
    startWorker(kernel, {
      type,
      handler: handlers[type],
      visibilityMs: kernel.config.visibilityMs,
      concurrency: kernel.config.concurrency,
    })
  )
}

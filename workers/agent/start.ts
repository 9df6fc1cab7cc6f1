/** The agent worker: `start(kernel)`, called by `aob-agent-worker` and by `aob dev` alike. */
import { createModelClient, type ModelClient } from '../../src/agent/model.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import type { Service } from '../../src/worker/consumer.ts'
import { startWorker } from '../../src/worker/run-worker.ts'
import { httpGuard, type WorkerKernel } from '../http/start.ts'
import { createAgentHandler } from './handler.ts'

export function startAgentWorker(
  kernel: WorkerKernel,
  opts: { fetch?: GuardedFetch; model?: ModelClient } = {}
): Service[] {
  return [
    startWorker(kernel, {
      type: 'agent',
      handler: createAgentHandler({
        bus: kernel.bus,
        lanes: kernel.lanes,
        config: kernel.config,
        model: opts.model ?? createModelClient(kernel.config.agent),
        fetch: opts.fetch ?? httpGuard(kernel.config),
      }),
      visibilityMs: kernel.config.visibilityMs,
      concurrency: kernel.config.concurrency,
    }),
  ]
}

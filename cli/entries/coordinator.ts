/** aob-coordinator: routes completions; stateless, run as many as you like. */
import { startCoordinator } from '../../src/coordinator/coordinator.ts'
import { startHealthServer } from '../../src/health.ts'
import { createKernel } from '../../src/kernel.ts'
import { requireDistributed, runService } from '../service-main.ts'

await runService('aob-coordinator', async (config) => {
  requireDistributed('aob-coordinator', config)
  const kernel = await createKernel(config)
  const services = [
    await startCoordinator(kernel, {
      visibilityMs: config.visibilityMs,
      concurrency: config.concurrency,
    }),
  ]
  if (config.healthPort !== undefined)
    services.push(
      startHealthServer(kernel, {
        host: config.host,
        port: config.healthPort,
        service: 'aob-coordinator',
      })
    )
  return { services, close: () => kernel.close() }
})

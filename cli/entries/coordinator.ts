/** aob-coordinator: routes completions; stateless, run as many as you like. */
import { startCoordinator } from '../../src/coordinator/coordinator.ts'
import { startHealthServer } from '../../src/health.ts'
import { createKernel } from '../../src/kernel.ts'
import { requireDistributed, runService } from '../../src/service-main.ts'

await runService('aob-coordinator', async (config) => {
  requireDistributed('aob-coordinator', config)
  const kernel = await createKernel(config)
  const services = [await startCoordinator(kernel, { visibilityMs: config.visibilityMs, concurrency: config.concurrency })]
  if (process.env.AOB_HEALTH_PORT) services.push(startHealthServer(kernel, { host: config.host, port: Number(process.env.AOB_HEALTH_PORT), service: 'aob-coordinator' }))
  return { services, close: () => kernel.close() }
})

/** aob-builtin-worker: runs noop, sleep and transform nodes (AOB_WORKER_TYPES picks some); talks only to Redis. */
import { requireRedis, runService } from '../../cli/service-main.ts'
import { startHealthServer } from '../../src/health.ts'
import { createBusKernel } from '../../src/kernel.ts'
import { startBuiltinWorker } from './start.ts'

await runService('aob-builtin-worker', async (config) => {
  requireRedis('aob-builtin-worker', config)
  const kernel = createBusKernel(config)
  const services = startBuiltinWorker(kernel)
  if (config.healthPort !== undefined)
    services.push(
      startHealthServer(kernel, {
        host: config.host,
        port: config.healthPort,
        service: 'aob-builtin-worker',
      })
    )
  return { services, close: () => kernel.close() }
})

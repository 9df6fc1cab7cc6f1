/** aob-http-worker: runs http nodes through the SSRF guard; talks only to Redis. */
import { requireRedis, runService } from '../../cli/service-main.ts'
import { startHealthServer } from '../../src/health.ts'
import { createBusKernel } from '../../src/kernel.ts'
import { startHttpWorker } from './start.ts'

await runService('aob-http-worker', async (config) => {
  requireRedis('aob-http-worker', config)
  const kernel = createBusKernel(config)
  const services = startHttpWorker(kernel)
  if (config.healthPort !== undefined)
    services.push(
      startHealthServer(kernel, {
        host: config.host,
        port: config.healthPort,
        service: 'aob-http-worker',
      })
    )
  return { services, close: () => kernel.close() }
})

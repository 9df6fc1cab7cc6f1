/** aob-http-worker: runs http nodes through the SSRF guard; talks only to Redis. */
import { startHealthServer } from '../../src/health.ts'
import { createBusKernel } from '../../src/kernel.ts'
import { requireRedis, runService } from '../../src/service-main.ts'
import { startHttpWorker } from './start.ts'

await runService('aob-http-worker', async (config) => {
  requireRedis('aob-http-worker', config)
  const kernel = createBusKernel(config)
  const services = [startHttpWorker(kernel)]
  if (process.env.AOB_HEALTH_PORT) services.push(startHealthServer(kernel, { host: config.host, port: Number(process.env.AOB_HEALTH_PORT), service: 'aob-http-worker' }))
  return { services, close: () => kernel.close() }
})

/** aob-builtin-worker: runs noop, sleep and transform nodes (AOB_WORKER_TYPES picks some); talks only to Redis. */
import { startHealthServer } from '../../src/health.ts'
import { createBusKernel } from '../../src/kernel.ts'
import { requireRedis, runService } from '../../src/service-main.ts'
import { builtinHandlers, BUILTIN_TYPES } from '../../src/worker/builtin.ts'
import { httpGuard } from '../http/start.ts'
import { startWorker } from '../../src/worker/run-worker.ts'

await runService('aob-builtin-worker', async (config) => {
  requireRedis('aob-builtin-worker', config)
  const handlers = builtinHandlers(httpGuard(config))
  const types = (process.env.AOB_WORKER_TYPES ?? BUILTIN_TYPES.join(',')).split(',').map((t) => t.trim()).filter(Boolean)
  const unknown = types.filter((t) => !(t in handlers))
  if (unknown.length || types.length === 0) throw new Error(`AOB_WORKER_TYPES must list some of ${BUILTIN_TYPES.join(', ')}; got "${process.env.AOB_WORKER_TYPES}"`)
  const kernel = createBusKernel(config)
  const services = Object.entries(handlers).filter(([type]) => types.includes(type)).map(([type, handler]) => startWorker(kernel, { type, handler, visibilityMs: config.visibilityMs, concurrency: config.concurrency }))
  if (process.env.AOB_HEALTH_PORT) services.push(startHealthServer(kernel, { host: config.host, port: Number(process.env.AOB_HEALTH_PORT), service: 'aob-builtin-worker' }))
  return { services, close: () => kernel.close() }
})

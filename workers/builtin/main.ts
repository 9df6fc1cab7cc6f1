/** aob-builtin-worker: runs noop, sleep and transform nodes (AOB_WORKER_TYPES picks some); talks only to Redis. */
import { startHealthServer } from '../../src/health.ts'
import { createBusKernel } from '../../src/kernel.ts'
import { requireRedis, runService } from '../../src/service-main.ts'
import { BUILTIN_HANDLERS } from '../../src/worker/builtin.ts'
import { startWorker } from '../../src/worker/run-worker.ts'

await runService('aob-builtin-worker', async (config) => {
  requireRedis('aob-builtin-worker', config)
  const types = (process.env.AOB_WORKER_TYPES ?? Object.keys(BUILTIN_HANDLERS).join(',')).split(',').map((t) => t.trim()).filter(Boolean)
  const unknown = types.filter((t) => !(t in BUILTIN_HANDLERS))
  if (unknown.length || types.length === 0) throw new Error(`AOB_WORKER_TYPES must list some of ${Object.keys(BUILTIN_HANDLERS).join(', ')}; got "${process.env.AOB_WORKER_TYPES}"`)
  const kernel = createBusKernel(config)
  const services = Object.entries(BUILTIN_HANDLERS).filter(([type]) => types.includes(type)).map(([type, handler]) => startWorker(kernel, { type, handler, visibilityMs: config.visibilityMs, concurrency: config.concurrency }))
  if (process.env.AOB_HEALTH_PORT) services.push(startHealthServer(kernel, { host: config.host, port: Number(process.env.AOB_HEALTH_PORT), service: 'aob-builtin-worker' }))
  return { services, close: () => kernel.close() }
})

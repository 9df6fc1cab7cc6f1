/** aob-orchestrator: the HTTP API. */
import { createKernel } from '../../src/kernel.ts'
import { startOrchestrator } from '../../src/orchestrator/start.ts'
import { recoverIfBusFresh } from '../../src/runs/recover.ts'
import { requireDistributed, runService } from '../service-main.ts'

await runService('aob-orchestrator', async (config) => {
  requireDistributed('aob-orchestrator', config)
  const kernel = await createKernel(config)
  // Before it dispatches anything: a bus still fresh would be rebuilt under its new runs. With
  // Redis unreachable it serves anyway (writes fail until Redis is back; a coordinator rebuilds).
  await recoverIfBusFresh(kernel).catch((e) =>
    kernel.log.warn({ err: e }, 'could not check the bus at start; the coordinators will')
  )
  const api = startOrchestrator(kernel, {
    host: config.host,
    port: config.port,
    service: 'aob-orchestrator',
  })
  return { services: [api], close: () => kernel.close() }
})

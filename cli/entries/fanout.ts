/** aob-fanout: run events over WebSocket and SSE (SPEC §5); needs only AOB_REDIS_URL. Run as many as you like. */
import { startFanoutServer } from '../../src/fanout/serve.ts'
import { runWorkerService } from '../service-main.ts'

await runWorkerService('aob-fanout', (kernel) => [
  startFanoutServer(kernel, { host: kernel.config.host, port: kernel.config.port }),
])

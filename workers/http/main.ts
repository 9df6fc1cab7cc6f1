/** aob-http-worker: runs http nodes through the SSRF guard; talks only to Redis. */
import { runWorkerService } from '../../cli/service-main.ts'
import { startHttpWorker } from './start.ts'

await runWorkerService('aob-http-worker', (kernel) => startHttpWorker(kernel))

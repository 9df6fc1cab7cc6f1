/** aob-builtin-worker: runs noop, sleep and transform nodes (AOB_WORKER_TYPES picks some); talks only to Redis. */
import { runWorkerService } from '../../cli/service-main.ts'
import { startBuiltinWorker } from './start.ts'

await runWorkerService('aob-builtin-worker', (kernel) => startBuiltinWorker(kernel))

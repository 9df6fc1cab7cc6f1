/** aob-hitl-worker: opens approvals of hitl nodes and sends their notify webhooks; talks only to Redis. */
import { runWorkerService } from '../../cli/service-main.ts'
import { startHitlWorker } from './start.ts'

await runWorkerService('aob-hitl-worker', (kernel) => startHitlWorker(kernel))

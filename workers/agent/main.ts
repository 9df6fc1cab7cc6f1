/** aob-agent-worker: runs agent nodes against OPENAI_BASE_URL; talks only to Redis and the model server. */
import { runWorkerService } from '../../cli/service-main.ts'
import { startAgentWorker } from './start.ts'

await runWorkerService('aob-agent-worker', (kernel) => startAgentWorker(kernel))

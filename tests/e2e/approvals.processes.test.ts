import { approvalsContract } from '../contract/approvals.contract.ts'
import { processPlatform } from '../helpers/cluster.ts'

// The approvals suite with the orchestrator, the coordinator, the built-in worker and the hitl
// worker as separate processes talking only through Redis and Postgres.
approvalsContract('redis-pg, separate processes', (opts) => processPlatform(opts))

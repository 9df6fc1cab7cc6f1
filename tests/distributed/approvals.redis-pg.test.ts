import { approvalsContract } from '../contract/approvals.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

approvalsContract('redis-pg', (opts) => testPlatform({ ...opts, backend: 'redis-pg' }))

import { agentContract } from '../contract/agent.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

agentContract('redis-pg', (opts) => testPlatform({ ...opts, backend: 'redis-pg' }))

import { fanoutContract } from '../contract/fanout.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

fanoutContract('redis-pg', (opts) => testPlatform({ ...(opts as object), backend: 'redis-pg' }))

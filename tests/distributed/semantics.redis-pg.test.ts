import { semanticsContract } from '../contract/semantics.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

semanticsContract('redis-pg', (opts) => testPlatform({ ...opts, backend: 'redis-pg' }))

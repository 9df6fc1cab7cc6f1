import { parseRateLimits } from '../../src/rate-limit.ts'
import { rateLimitContract, TEST_RATE_LIMITS } from '../contract/rate-limits.contract.ts'
import { testPlatform } from '../helpers/kernel.ts'

rateLimitContract('redis-pg', async () => {
  const p = await testPlatform({
    backend: 'redis-pg',
    config: { rateLimits: parseRateLimits(TEST_RATE_LIMITS) },
    without: ['agent'],
  })
  return { calls: [p.call], close: () => p.close() }
})

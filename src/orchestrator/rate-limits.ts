/**
 * Spending a principal's run-creation budget (SPEC §4): admitted requests carry the IETF
 * `RateLimit-Policy`/`RateLimit` headers; a refused one is a 429 with `Retry-After` too, made
 * before anything is written. Admin tokens are not limited.
 * @module
 */
import type { Context } from 'hono'
import { AobError, ErrorCode } from '../errors.ts'
import type { Kernel } from '../kernel.ts'
import type { Tier } from '../model/stats.ts'
import { gcraOf, rateLimitHeaders } from '../rate-limit.ts'
import type { AuthEnv } from './auth.ts'

export async function spendRateLimit(
  kernel: Pick<Kernel, 'bus' | 'config' | 'metrics'>,
  c: Context<AuthEnv>,
  tier: Tier
): Promise<void> {
  const rule = kernel.config.rateLimits?.get(tier)
  const principal = c.get('principal')
  if (!rule || principal.role === 'admin') return
  const admission = await kernel.bus.admit(`${tier}:${principal.name}`, gcraOf(rule))
  for (const [name, value] of Object.entries(rateLimitHeaders(rule, admission)))
    c.header(name, value)
  if (admission.allowed) return
  kernel.metrics.rateLimited.inc({ tier })
  throw new AobError(
    ErrorCode.RateLimited,
    `rate limit of the ${tier} tier reached (${rule.limit} runs per ${rule.windowS} s for ${principal.name}); retry in ${Math.max(1, Math.ceil(admission.retryAfterMs / 1000))} s`
  )
}

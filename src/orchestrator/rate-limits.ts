/**
 * Rate limits on the HTTP side (SPEC §4): admitted requests carry the IETF
 * `RateLimit-Policy`/`RateLimit` headers; a refused one is a 429 with `Retry-After` too, made
 * before anything is written.
 * @module
 */
import type { Context } from 'hono'
import type { Tier } from '../model/stats.ts'
import { rateLimitHeaders } from '../rate-limit.ts'
import { rateLimited, spendBudget, type BudgetKernel } from '../runs/budgets.ts'
import type { AuthEnv } from './auth.ts'

export async function spendRateLimit(
  kernel: BudgetKernel,
  c: Context<AuthEnv>,
  tier: Tier
): Promise<void> {
  const principal = c.get('principal')
  const spent = await spendBudget(kernel, principal, tier)
  if (!spent) return
  for (const [name, value] of Object.entries(rateLimitHeaders(spent.rule, spent.admission)))
    c.header(name, value)
  if (!spent.admission.allowed) throw rateLimited(spent, principal.name)
}

/**
 * Spending run-creation budgets (SPEC §4): one GCRA budget per principal and tier, on the bus
 * (shared by every process on it). Admin principals are not limited.
 * @module
 */
import type { Role } from '../config.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { Kernel } from '../kernel.ts'
import { workflowStats, type Tier } from '../model/stats.ts'
import type { Workflow } from '../model/workflow.ts'
import { gcraOf, TIERS, type Admission, type RateRule } from '../rate-limit.ts'

export type BudgetKernel = Pick<Kernel, 'bus' | 'config' | 'metrics'>

export interface Spent {
  rule: RateRule
  admission: Admission
}

/** One request of `principal`'s `tier` budget; null when not limited. Refusals are counted. */
export async function spendBudget(
  kernel: BudgetKernel,
  principal: { name: string; role: Role },
  tier: Tier
): Promise<Spent | null> {
  const rule = kernel.config.rateLimits?.get(tier)
  if (!rule || principal.role === 'admin') return null
  const admission = await kernel.bus.admit(`${tier}:${principal.name}`, gcraOf(rule))
  if (!admission.allowed) kernel.metrics.rateLimited.inc({ tier })
  return { rule, admission }
}

/** The 429 of a refused request. */
export function rateLimited(spent: Spent, principal: string): AobError {
  const { rule, admission } = spent
  return new AobError(
    ErrorCode.RateLimited,
    `rate limit of the ${rule.tier} tier reached (${rule.limit} runs per ${rule.windowS} s for ${principal}); retry in ${Math.max(1, Math.ceil(admission.retryAfterMs / 1000))} s`
  )
}

/**
 * The `admit` of a patch (patchRun): when the patched document's tier is above the run's, spend
 * one request of the new tier — once, however often the transition is retried.
 */
export function tierRaiseAdmit(
  spend: (tier: Tier) => Promise<void>
): (before: Workflow, after: Workflow) => Promise<void> {
  let spent = false
  return async (before, after) => {
    const [was, now] = [workflowStats(before).tier, workflowStats(after).tier]
    if (spent || TIERS.indexOf(now) <= TIERS.indexOf(was)) return
    await spend(now)
    spent = true
  }
}

/**
 * Agent usage as run state (SPEC §7): what each agent node's executions used, recorded when the
 * node resolves (its last attempt's report covers the earlier ones: a retried agent resumes
 * from its checkpoint), and what an agent task needs to know of the run's budget.
 * @module
 */
import type { Outcome } from '../model/messages.ts'
import type { Draft } from './draft.ts'
import type { NodeUsage } from './state.ts'

const KEYS = [
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'total_tokens',
  'llm_calls',
] as const

/** The usage an agent worker reported with its outcome (bad numbers count as 0). */
export function usageOf(outcome: Outcome): NodeUsage | null {
  const raw =
    outcome.kind === 'done'
      ? (outcome.output as { usage?: unknown; delegations?: unknown } | null)
      : outcome.kind === 'fail'
        ? { usage: outcome.error.usage, delegations: outcome.error.usage?.delegations }
        : null
  const usage = raw?.usage as Record<string, unknown> | undefined
  if (!usage || typeof usage !== 'object' || Array.isArray(usage)) return null
  const count = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0
  const out = { delegations: count(raw?.delegations) } as NodeUsage
  for (const k of KEYS) out[k] = count(usage[k])
  return out
}

export function addNodeUsage(a: NodeUsage | undefined, b: NodeUsage): NodeUsage {
  if (!a) return b
  const out = { delegations: a.delegations + b.delegations } as NodeUsage
  for (const k of KEYS) out[k] = a[k] + b[k]
  return out
}

/** The sum over the run's nodes (GET /runs/:id → usage). */
export function runUsage(nodes: Iterable<{ usage?: NodeUsage }>): NodeUsage | null {
  let sum: NodeUsage | undefined
  for (const n of nodes) if (n.usage) sum = addNodeUsage(sum, n.usage)
  return sum ?? null
}

/** What an agent task is told of the run: tokens used so far and agent executions started. */
export function agentBudgetOf(d: Draft): { tokens_before: number; executions_before: number } {
  let tokens = 0
  let executions = 0
  for (const id of d.nodeIds()) {
    if (d.ir.nodes[id]?.type !== 'agent') continue
    const n = d.peek(id)
    if (!n) continue
    tokens += n.usage?.total_tokens ?? 0
    // Activations so far (this one included), plus what finished ones delegated.
    executions += n.iteration + (n.usage?.delegations ?? 0)
  }
  return { tokens_before: tokens, executions_before: executions }
}

/**
 * Who may decide: one function per kind of decision, used by every path that decides (the API
 * today; the CLI and the UI go through the API; approvals and tool approvals next), so a rule
 * enforced on one path cannot be missing on another (SPEC §4, §4.1).
 * @module
 */
import type { Role } from '../config.ts'

export interface Decider {
  /** The principal's name (SPEC §4). */
  name: string
  role: Role
}

export type Verdict = { ok: true } | { ok: false; reason: string }

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 }
const ROLE_NAMES = new Set<string>(Object.keys(RANK))
const OK: Verdict = { ok: true }

export interface ApprovalRule {
  /** Role names and/or principal names; absent: any operator or admin. */
  approvers?: readonly string[]
  /** The principal that created the run. */
  createdBy: string | null
  allowSelfApproval: boolean
}

/**
 * SPEC §4.1: the role is at least operator; when `approvers` is given the principal matches it
 * (a role name matches principals of that role or above, a principal name that principal; an
 * admin that matches nothing is refused too); and the run's creator may not decide unless
 * `allowSelfApproval`.
 */
export function mayDecideApproval(who: Decider, rule: ApprovalRule): Verdict {
  if (RANK[who.role] < RANK.operator)
    return { ok: false, reason: `deciding needs the operator role; ${who.name} is ${who.role}` }
  if (rule.approvers && rule.approvers.length > 0) {
    const matches = rule.approvers.some((a) =>
      ROLE_NAMES.has(a) ? RANK[who.role] >= RANK[a as Role] : a === who.name
    )
    if (!matches)
      return {
        ok: false,
        reason: `${who.name} is not among the approvers (${rule.approvers.join(', ')})`,
      }
  }
  if (!rule.allowSelfApproval && rule.createdBy !== null && rule.createdBy === who.name) {
    return { ok: false, reason: `${who.name} created the run and may not decide its approvals` }
  }
  return OK
}

/** SPEC §4: patches are decided by operators or admins, never by whoever submitted them. */
export function mayDecidePatch(who: Decider, patch: { submitted_by: string | null }): Verdict {
  if (RANK[who.role] < RANK.operator)
    return { ok: false, reason: `deciding needs the operator role; ${who.name} is ${who.role}` }
  if (patch.submitted_by !== null && patch.submitted_by === who.name) {
    return { ok: false, reason: `${who.name} submitted this patch and may not decide it` }
  }
  return OK
}

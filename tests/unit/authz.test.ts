/** Who may decide (src/engine/authz.ts), table-driven: principal × approvers × creator × self-approval. */
import { describe, expect, test } from 'bun:test'
import { mayDecideApproval, mayDecidePatch, type Decider } from '../../src/engine/authz.ts'

const alice: Decider = { name: 'alice', role: 'operator' }
const bob: Decider = { name: 'bob', role: 'operator' }
const root: Decider = { name: 'root', role: 'admin' }
const eve: Decider = { name: 'eve', role: 'viewer' }

type Row = [
  who: Decider,
  approvers: string[] | undefined,
  createdBy: string | null,
  allowSelf: boolean,
  ok: boolean,
  why: string,
]

const ROWS: Row[] = [
  [alice, undefined, 'bob', false, true, 'any operator by default'],
  [root, undefined, 'bob', false, true, 'any admin by default'],
  [eve, undefined, 'bob', false, false, 'a viewer never'],
  [eve, ['eve'], 'bob', false, false, 'a viewer never, even named'],
  [alice, ['operator'], 'bob', false, true, 'a role name matches that role'],
  [root, ['operator'], 'bob', false, true, 'a role name matches the roles above it'],
  [alice, ['admin'], 'bob', false, false, 'not the roles below it'],
  [root, ['admin'], 'bob', false, true, 'an admin for admin'],
  [alice, ['alice'], 'bob', false, true, 'a principal name matches that principal'],
  [bob, ['alice'], 'carol', false, false, 'and no one else'],
  [root, ['alice'], 'bob', false, false, 'an admin that matches nothing is refused'],
  [root, ['alice', 'admin'], 'bob', false, true, 'names and roles mix'],
  [alice, undefined, 'alice', false, false, 'no self-approval by default'],
  [alice, ['alice'], 'alice', false, false, 'not even when named'],
  [alice, undefined, 'alice', true, true, 'unless allowed'],
  [alice, [], null, false, true, 'an empty list is the default; an unknown creator is nobody'],
]

describe('approvals: who may decide', () => {
  for (const [who, approvers, createdBy, allowSelfApproval, ok, why] of ROWS) {
    test(`${why}: ${who.name} (${who.role}), approvers ${JSON.stringify(approvers)}, created by ${createdBy}, self ${allowSelfApproval}`, () => {
      const verdict = mayDecideApproval(who, { approvers, createdBy, allowSelfApproval })
      expect(verdict.ok).toBe(ok)
      if (!verdict.ok) expect(verdict.reason).toContain(who.name)
    })
  }
})

describe('patches: who may decide', () => {
  test('an operator or admin who did not submit it', () => {
    expect(mayDecidePatch(alice, { submitted_by: 'bob' }).ok).toBe(true)
    expect(mayDecidePatch(root, { submitted_by: 'agent:run_x/plan' }).ok).toBe(true)
    expect(mayDecidePatch(alice, { submitted_by: null }).ok).toBe(true)
  })
  test('never its submitter, never a viewer', () => {
    expect(mayDecidePatch(alice, { submitted_by: 'alice' }).ok).toBe(false)
    expect(mayDecidePatch(root, { submitted_by: 'root' }).ok).toBe(false)
    expect(mayDecidePatch(eve, { submitted_by: 'bob' }).ok).toBe(false)
  })
})

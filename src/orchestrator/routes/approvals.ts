/** /approvals: list, get, decide (SPEC §4.1). @module */
import { doc } from '../openapi.ts'
import { Hono } from 'hono'
import * as v from 'valibot'
import { isApprovalId } from '../../engine/approval-record.ts'
import { voteOnApproval } from '../../engine/approvals.ts'
import { mayDecideApproval } from '../../engine/authz.ts'
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus } from '../../engine/state.ts'
import { AobError, ErrorCode } from '../../errors.ts'
import { isRunId } from '../../ids.ts'
import type { Kernel } from '../../kernel.ts'
import { strictObject } from '../../model/schema.ts'
import { transact } from '../../runs/transact.ts'
import type { AuthEnv } from '../auth.ts'
import { intParam, pageOf, parseBody, readJson } from '../request.ts'
import { approvalView } from '../views.ts'

const DecideBody = strictObject({
  decision: v.picklist(['approve', 'reject'], 'decision must be "approve" or "reject"'),
  comment: v.optional(v.pipe(v.string(), v.maxLength(4_000))),
  data: v.optional(v.unknown()),
})

export function approvalRoutes(kernel: Kernel) {
  const { store, config } = kernel
  const app = new Hono<AuthEnv>()
  const getApproval = async (id: string): Promise<ApprovalRecord> => {
    const found = isApprovalId(id) ? await store.getApproval(id) : null
    if (!found) throw new AobError(ErrorCode.ApprovalNotFound, `approval ${id} not found`)
    return found
  }

  app.get(
    '/approvals',
    doc({
      summary: 'List approvals, newest first',
      query: {
        status: 'pending, approved, rejected, timed_out, cancelled or all',
        run: 'a run id',
        limit: '1-500',
        cursor: 'next_cursor of the previous page',
      },
    }),
    async (c) => {
      const status = c.req.query('status')
      if (status !== undefined && !APPROVAL_STATUSES.includes(status as ApprovalStatus))
        throw new AobError(
          ErrorCode.BadRequest,
          `status must be one of ${APPROVAL_STATUSES.join(', ')}`
        )
      const run = c.req.query('run')
      if (run !== undefined && !isRunId(run))
        throw new AobError(ErrorCode.BadRequest, `run must be a run id, got "${run.slice(0, 80)}"`)
      const cursor = c.req.query('cursor')
      if (cursor !== undefined && !isApprovalId(cursor))
        throw new AobError(ErrorCode.BadRequest, 'cursor is not one this API returned')
      const limit = intParam(c.req.query('limit'), 'limit', 50, 1, 500)
      const rows = await store.listApprovals({
        status: status as ApprovalStatus | undefined,
        run_id: run,
        limit: limit + 1,
        before: cursor,
      })
      const { page, next_cursor } = pageOf(rows, limit)
      return c.json({ approvals: page.map(approvalView), next_cursor })
    }
  )

  app.get('/approvals/:id', doc({ summary: 'One approval (SPEC §4.1)' }), async (c) =>
    c.json(approvalView(await getApproval(c.req.param('id'))))
  )

  // SPEC §4.1's order: 401 (middleware), 400/422 body, 404, 403, 409.
  app.post(
    '/approvals/:id/decide',
    doc({ summary: 'Approve or reject (rules of SPEC §4.1)', role: 'operator', body: DecideBody }),
    async (c) => {
      const raw = await readJson(c, { maxDepth: config.limits.maxJsonDepth })
      const body = parseBody(DecideBody, raw, ErrorCode.InvalidDecision)
      const approval = await getApproval(c.req.param('id'))
      const principal = c.get('principal')
      const verdict = mayDecideApproval(principal, {
        approvers: approval.approvers ?? undefined,
        createdBy: approval.run_created_by,
        allowSelfApproval: approval.allow_self_approval,
      })
      if (!verdict.ok) throw new AobError(ErrorCode.Forbidden, verdict.reason)
      if (approval.status !== 'pending')
        throw new AobError(
          ErrorCode.Conflict,
          `approval ${approval.id} is already ${approval.status}`
        )
      const { value } = await transact(
        kernel,
        approval.run_id,
        (d) => voteOnApproval(d, approval, principal.name, body),
        { durableDispatch: true }
      )
      return c.json(approvalView(value))
    }
  )

  return app
}

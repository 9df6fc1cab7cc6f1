/** /runs: create, list, get, cancel, patch, replay, and /patches. @module */
import { doc } from '../openapi.ts'
import { Hono } from 'hono'
import * as v from 'valibot'
import { isJsonObject, strictObject } from '../../model/schema.ts'
import { mayDecidePatch } from '../../engine/authz.ts'
import { cancelRun } from '../../engine/route.ts'
import { patchRun, PatchRequest, rejectPatch } from '../../engine/patch.ts'
import { RunStatus, type PatchRecord } from '../../engine/state.ts'
import { AobError, ErrorCode } from '../../errors.ts'
import { isRunId, type RunId } from '../../ids.ts'
import type { Kernel } from '../../kernel.ts'
import { createRun } from '../../runs/create-run.ts'
import { tierRaiseAdmit } from '../../runs/budgets.ts'
import { transact } from '../../runs/transact.ts'
import { resolveWorkflow, runnableWorkflow } from '../../runs/workflows.ts'
import { resolveRunOutput } from '../../runs/cas.ts'
import { workflowStats } from '../../model/stats.ts'
import { traceIdOf } from '../../net/traced-fetch.ts'
import { requireRole, type AuthEnv } from '../auth.ts'
import { spendRateLimit } from '../rate-limits.ts'
import { intParam, pageOf, parseBody, readJson } from '../request.ts'
import { patchView, runSummary, runView } from '../views.ts'

const CreateRunBody = strictObject({
  workflow: v.union(
    [
      v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
      v.custom<Record<string, unknown>>(isJsonObject),
    ],
    'must be a workflow id, a tag name, or a workflow document'
  ),
  // The document itself is checked by the one validation path every document takes (storeWorkflow).,
  input: v.optional(v.unknown()),
  idempotency_key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(255))),
})
const CancelBody = strictObject({ reason: v.optional(v.pipe(v.string(), v.maxLength(2000))) })
const DecideBody = strictObject({ reason: v.optional(v.pipe(v.string(), v.maxLength(2000))) })
const ReplayBody = strictObject({
  from: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
})

/** GET /runs/:id lists this many of the run's approvals at most (newest); GET /approvals pages. */
const MAX_RUN_APPROVALS = 500

export function runRoutes(kernel: Kernel) {
  const { store, config } = kernel
  const maxDepth = config.limits.maxJsonDepth
  const app = new Hono<AuthEnv>()
  const runId = (raw: string): RunId => {
    if (!isRunId(raw)) throw new AobError(ErrorCode.RunNotFound, `run ${raw} not found`)
    return raw
  }
  const loadRun = async (raw: string) => {
    const state = await store.loadRun(runId(raw))
    if (!state) throw new AobError(ErrorCode.RunNotFound, `run ${raw} not found`)
    return state
  }

  app.post(
    '/runs',
    doc({
      summary: 'Start a run (rate-limited per principal and tier; honours traceparent)',
      role: 'operator',
      body: CreateRunBody,
      responses: { 200: 'the run of this idempotency key', 201: 'created' },
    }),
    requireRole('operator'),
    async (c) => {
      const body = parseBody(CreateRunBody, await readJson(c, { maxDepth }))
      const {
        id: workflowId,
        workflow: document,
        ir,
      } = await runnableWorkflow(kernel, body.workflow, config.limits, (workflow) =>
        spendRateLimit(kernel, c, workflowStats(workflow).tier)
      )
      const { run, created } = await createRun(kernel, {
        workflowId,
        document,
        ir,
        input: body.input ?? null,
        idempotencyKey: body.idempotency_key,
        createdBy: c.get('principal').name,
        traceId: traceIdOf(c.req.header('traceparent')),
      })
      if (!created && run.workflow_id !== workflowId) {
        throw new AobError(
          ErrorCode.Conflict,
          `idempotency key "${body.idempotency_key}" was used for a run of another workflow (${run.workflow_id})`
        )
      }
      return c.json(
        { run_id: run.id, status: run.status, workflow_id: run.workflow_id, created },
        created ? 201 : 200
      )
    }
  )

  app.get(
    '/runs',
    doc({
      summary: 'List runs, newest first',
      query: {
        status: 'a run status',
        workflow: 'a workflow id or tag',
        limit: '1-500',
        cursor: 'next_cursor of the previous page',
      },
    }),
    async (c) => {
      const status = c.req.query('status')
      if (status !== undefined && !Object.values(RunStatus).includes(status as RunStatus)) {
        throw new AobError(
          ErrorCode.BadRequest,
          `status must be one of ${Object.values(RunStatus).join(', ')}`
        )
      }
      const limit = intParam(c.req.query('limit'), 'limit', 50, 1, 500)
      const cursor = c.req.query('cursor')
      if (cursor !== undefined && !isRunId(cursor))
        throw new AobError(ErrorCode.BadRequest, 'cursor is not one this API returned')
      const ref = c.req.query('workflow')
      const workflow_id = ref ? (await resolveWorkflow(kernel, ref)).id : undefined
      const runs = await store.listRuns({
        status: status as RunStatus | undefined,
        workflow_id,
        limit: limit + 1,
        before: cursor,
      })
      const { page, next_cursor } = pageOf(runs, limit)
      return c.json({ runs: page.map(runSummary), next_cursor })
    }
  )

  app.get(
    '/runs/:id',
    doc({
      summary: 'A run with its nodes, approvals, patches and usage',
      query: { resolve: 'true: outputs kept aside are included' },
    }),
    async (c) => {
      const resolve = c.req.query('resolve') === 'true'
      const state = await loadRun(c.req.param('id'))
      const [patches, approvals] = await Promise.all([
        store.listPatches(state.run.id),
        store.listApprovals({ run_id: state.run.id, limit: MAX_RUN_APPROVALS }),
      ])
      const view = runView(state, patches, approvals, { resolve })
      if (resolve) view.output = await resolveRunOutput(store, view.output)
      return c.json(view)
    }
  )

  app.post(
    '/runs/:id/cancel',
    doc({ summary: 'Cancel a run', role: 'operator', body: CancelBody, bodyOptional: true }),
    requireRole('operator'),
    async (c) => {
      const id = runId(c.req.param('id'))
      const body = parseBody(CancelBody, await readJson(c, { maxDepth, optional: true }))
      await transact(kernel, id, (d) => cancelRun(d, body.reason))
      return c.json({ run_id: id, status: 'cancelled' })
    }
  )

  app.post(
    '/runs/:id/patch',
    doc({ summary: "Patch a run's workflow (RFC 6902)", role: 'operator', body: PatchRequest }),
    requireRole('operator'),
    async (c) => {
      const id = runId(c.req.param('id'))
      const raw = await readJson(c, { maxDepth })
      const body = parseBody(PatchRequest, raw, ErrorCode.InvalidPatch)
      // A patch that raises the run's tier spends one request of the new tier.
      const admit = tierRaiseAdmit((tier) => spendRateLimit(kernel, c, tier))
      const { value } = await transact(
        kernel,
        id,
        (d) =>
          patchRun(d, body.operations, {
            reason: body.reason,
            limits: config.limits,
            principal: c.get('principal').name,
            admit,
          }),
        { durableDispatch: true }
      )
      return c.json({ patch_id: value.id, status: value.status, ir_version: value.ir_version })
    }
  )

  app.get('/runs/:id/patches', doc({ summary: "A run's patches" }), async (c) => {
    const state = await loadRun(c.req.param('id'))
    return c.json({ patches: (await store.listPatches(state.run.id)).map(patchView) })
  })

  app.post(
    '/runs/:id/replay',
    doc({
      summary: 'Replay a run (from a node, or its failed and cancelled nodes)',
      role: 'operator',
      body: ReplayBody,
      bodyOptional: true,
      responses: { 201: 'the new run' },
    }),
    requireRole('operator'),
    async (c) => {
      const old = await loadRun(c.req.param('id'))
      const body = parseBody(ReplayBody, await readJson(c, { maxDepth, optional: true }))
      await spendRateLimit(kernel, c, workflowStats(old.run.document).tier)
      const { run } = await createRun(kernel, {
        workflowId: old.run.workflow_id,
        document: old.run.document,
        input: old.run.input,
        replay: { of: old, from: body.from },
        createdBy: c.get('principal').name,
        traceId: traceIdOf(c.req.header('traceparent')),
      })
      return c.json({ run_id: run.id, replay_of: old.run.id, status: run.status }, 201)
    }
  )

  const getPatch = async (id: string): Promise<PatchRecord> => {
    const p = await store.getPatch(id)
    if (!p) throw new AobError(ErrorCode.PatchNotFound, `patch ${id} not found`)
    return p
  }
  app.get('/patches/:id', doc({ summary: 'One patch' }), async (c) =>
    c.json(patchView(await getPatch(c.req.param('id'))))
  )

  app.post(
    '/patches/:id/:decision{approve|reject}',
    doc({
      summary: 'Approve or reject a pending patch',
      role: 'operator',
      body: DecideBody,
      bodyOptional: true,
    }),
    requireRole('operator'),
    async (c) => {
      const patch = await getPatch(c.req.param('id'))
      const body = parseBody(DecideBody, await readJson(c, { maxDepth, optional: true }))
      const decision = c.req.param('decision')
      const principal = c.get('principal')
      const who = principal.name
      const verdict = mayDecidePatch(principal, patch)
      if (!verdict.ok) throw new AobError(ErrorCode.Forbidden, verdict.reason)
      const { value } = await transact(
        kernel,
        patch.run_id,
        async (d) => {
          const current = (await store.getPatch(patch.id)) as PatchRecord
          if (current.status !== 'pending')
            throw new AobError(ErrorCode.Conflict, `patch ${patch.id} is already ${current.status}`)
          if (decision === 'approve')
            return patchRun(d, current.operations, {
              limits: config.limits,
              forceApply: current,
              principal: who,
            })
          return rejectPatch(d, current, body.reason, who)
        },
        { durableDispatch: true }
      )
      return c.json(patchView(value))
    }
  )

  return app
}

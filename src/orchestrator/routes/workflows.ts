/** /workflows and /tags. @module */
import { doc } from '../openapi.ts'
import { Hono } from 'hono'
import * as v from 'valibot'
import { strictObject } from '../../model/schema.ts'
import { AobError, ErrorCode } from '../../errors.ts'
import type { Kernel } from '../../kernel.ts'
import { validateWorkflow } from '../../model/validate.ts'
import { WorkflowSchema } from '../../model/workflow.ts'
import { workflowStats } from '../../model/stats.ts'
import { checkTagName, resolveWorkflow, storeWorkflow } from '../../runs/workflows.ts'
import { requireRole, type AuthEnv } from '../auth.ts'
import { intParam, parseBody, readJson } from '../request.ts'

const TagMoveBody = strictObject({
  workflow_id: v.pipe(
    v.string(),
    v.regex(/^wf_[0-9a-f]{16}$/, 'must be a workflow id (wf_ + 16 hex digits)')
  ),
  expect: v.optional(
    v.nullable(v.pipe(v.string(), v.regex(/^wf_[0-9a-f]{16}$/, 'must be a workflow id or null')))
  ),
})

export function workflowRoutes(kernel: Kernel) {
  const { store, config } = kernel
  const maxDepth = config.limits.maxJsonDepth
  const app = new Hono<AuthEnv>()

  app.post(
    '/workflows/validate',
    doc({ summary: 'Validate a workflow document (stores nothing)', body: WorkflowSchema }),
    async (c) => {
      const doc = await readJson(c, { maxDepth, document: true })
      const { valid, errors, warnings } = validateWorkflow(doc, config.limits)
      return c.json({ valid, errors, warnings, stats: workflowStats(doc) })
    }
  )

  app.post(
    '/workflows',
    doc({
      summary: 'Store a workflow document',
      role: 'admin',
      body: WorkflowSchema,
      query: { tag: 'also move this tag to it' },
      responses: { 200: 'already stored', 201: 'stored' },
    }),
    requireRole('admin'),
    async (c) => {
      const tag = c.req.query('tag')
      if (tag !== undefined) checkTagName(tag)
      const doc = await readJson(c, { maxDepth, document: true })
      const { id, workflow, created } = await storeWorkflow(kernel, doc, config.limits)
      if (tag !== undefined) await store.moveTag(tag, id)
      return c.json(
        { id, name: workflow.name, created, ...(tag !== undefined ? { tag } : {}) },
        201
      )
    }
  )

  app.get('/workflows', doc({ summary: 'Stored workflows' }), async (c) => {
    const limit = intParam(c.req.query('limit'), 'limit', 100, 1, 1000)
    const list = await store.listWorkflows({ limit, name: c.req.query('name') })
    return c.json({ workflows: list.map(({ id, name, created_at }) => ({ id, name, created_at })) })
  })

  app.get('/workflows/:ref', doc({ summary: 'One workflow document, by id or tag' }), async (c) => {
    const wf = await resolveWorkflow(kernel, c.req.param('ref'))
    return c.json({ id: wf.id, name: wf.name, created_at: wf.created_at, document: wf.document })
  })

  app.get('/tags', doc({ summary: 'Tags with their workflow ids' }), async (c) =>
    c.json({ tags: await store.listTags() })
  )

  app.get('/tags/:name/history', doc({ summary: 'Every move of a tag' }), async (c) => {
    const name = c.req.param('name')
    const history = await store.tagHistory(name)
    if (history.length === 0 && !(await store.getTag(name)))
      throw new AobError(ErrorCode.NotFound, `no tag "${name}"`)
    return c.json({ name, history })
  })

  app.post(
    '/tags/:name/move',
    doc({ summary: 'Move a tag (compare-and-swap with expect)', role: 'admin', body: TagMoveBody }),
    requireRole('admin'),
    async (c) => {
      const name = c.req.param('name')
      checkTagName(name)
      const body = parseBody(TagMoveBody, await readJson(c, { maxDepth }))
      if (!(await store.getWorkflow(body.workflow_id)))
        throw new AobError(ErrorCode.WorkflowNotFound, `no workflow ${body.workflow_id}`)
      const move = await store.moveTag(name, body.workflow_id, body.expect)
      return c.json(move)
    }
  )

  return app
}

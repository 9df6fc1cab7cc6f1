/** /tools: the composite tool registry agents search and run (SPEC §4.2). @module */
import { Hono } from 'hono'
import { AobError, ErrorCode } from '../../errors.ts'
import type { Kernel } from '../../kernel.ts'
import {
  REGISTRY_NAME,
  searchTools,
  ToolBody,
  toolErrors,
  type ToolRecord,
} from '../../model/tool-record.ts'
import { requireRole, type AuthEnv } from '../auth.ts'
import { parseBody, readJson } from '../request.ts'

export function toolRoutes(kernel: Kernel) {
  const { store, config } = kernel
  const app = new Hono<AuthEnv>()
  const getTool = async (name: string): Promise<ToolRecord> => {
    const tool = REGISTRY_NAME.test(name) ? await store.getTool(name) : null
    if (!tool) throw new AobError(ErrorCode.ToolNotFound, `no tool named "${name.slice(0, 80)}"`)
    return tool
  }

  // Storing a tool grants agents a capability: admins only.
  app.post('/tools', requireRole('admin'), async (c) => {
    const body = parseBody(ToolBody, await readJson(c, { maxDepth: config.limits.maxJsonDepth }))
    const errors = toolErrors(body)
    if (errors.length) throw new AobError(ErrorCode.InvalidTool, 'the tool is invalid', errors)
    const tool = await store.putTool({
      ...body,
      created_at: new Date().toISOString(),
      created_by: c.get('principal').name,
    })
    return c.json(tool, 201)
  })

  app.get('/tools', async (c) => {
    const q = c.req.query('q')
    if (q !== undefined && q.length > 200)
      throw new AobError(ErrorCode.BadRequest, 'q must be at most 200 characters')
    const all = await store.listTools()
    return c.json({ tools: q ? searchTools(all, q) : all })
  })

  app.get('/tools/:name', async (c) => c.json(await getTool(c.req.param('name'))))

  app.delete('/tools/:name', requireRole('admin'), async (c) => {
    const tool = await getTool(c.req.param('name'))
    await store.deleteTool(tool.name)
    return c.json({ name: tool.name, deleted: true })
  })

  return app
}

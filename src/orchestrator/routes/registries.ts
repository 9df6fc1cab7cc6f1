/**
 * The registries of what agents may use (SPEC §4.2): /tools (composite tools they search and
 * run) and /openapi (OpenAPI documents whose operations openapi_action calls). Writing needs
 * admin: it grants capabilities.
 * @module
 */
import { doc } from '../openapi.ts'
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
import { ApiBody, checkApi, type ApiRecord } from '../../model/openapi.ts'
import { requireRole, type AuthEnv } from '../auth.ts'
import { parseBody, readJson } from '../request.ts'

export function registryRoutes(kernel: Kernel) {
  const { store, config } = kernel
  const app = new Hono<AuthEnv>()
  const getTool = async (name: string): Promise<ToolRecord> => {
    const tool = REGISTRY_NAME.test(name) ? await store.getTool(name) : null
    if (!tool) throw new AobError(ErrorCode.ToolNotFound, `no tool named "${name.slice(0, 80)}"`)
    return tool
  }

  // Storing a tool grants agents a capability: admins only.
  app.post(
    '/tools',
    doc({
      summary: 'Store a composite tool (same name: a new version)',
      role: 'admin',
      body: ToolBody,
      responses: { 201: 'stored' },
    }),
    requireRole('admin'),
    async (c) => {
      const body = parseBody(ToolBody, await readJson(c, { maxDepth: config.limits.maxJsonDepth }))
      const errors = toolErrors(body)
      if (errors.length) throw new AobError(ErrorCode.InvalidTool, 'the tool is invalid', errors)
      const tool = await store.putTool({
        ...body,
        created_at: new Date().toISOString(),
        created_by: c.get('principal').name,
      })
      return c.json(tool, 201)
    }
  )

  app.get(
    '/tools',
    doc({ summary: 'Search composite tools', query: { q: 'words to rank by' } }),
    async (c) => {
      const q = c.req.query('q')
      if (q !== undefined && q.length > 200)
        throw new AobError(ErrorCode.BadRequest, 'q must be at most 200 characters')
      const all = await store.listTools()
      return c.json({ tools: q ? searchTools(all, q) : all })
    }
  )

  app.get('/tools/:name', doc({ summary: 'One composite tool' }), async (c) =>
    c.json(await getTool(c.req.param('name')))
  )

  app.delete(
    '/tools/:name',
    doc({ summary: 'Remove a composite tool', role: 'admin' }),
    requireRole('admin'),
    async (c) => {
      const tool = await getTool(c.req.param('name'))
      await store.deleteTool(tool.name)
      return c.json({ name: tool.name, deleted: true })
    }
  )

  const getApi = async (name: string): Promise<ApiRecord> => {
    const api = REGISTRY_NAME.test(name) ? await store.getApi(name) : null
    if (!api) throw new AobError(ErrorCode.ApiNotFound, `no API named "${name.slice(0, 80)}"`)
    return api
  }

  app.post(
    '/openapi',
    doc({
      summary: 'Register an OpenAPI document agents may call',
      role: 'admin',
      body: ApiBody,
      responses: { 201: 'registered' },
    }),
    requireRole('admin'),
    async (c) => {
      const body = parseBody(ApiBody, await readJson(c, { maxDepth: config.limits.maxJsonDepth }))
      const checked = await checkApi(body)
      if ('errors' in checked)
        throw new AobError(ErrorCode.InvalidApi, 'the OpenAPI document is invalid', checked.errors)
      const api: ApiRecord = {
        name: body.name,
        document: checked.document,
        base_url: body.base_url ?? null,
        auth: body.auth ?? null,
        operations: checked.operations,
        created_at: new Date().toISOString(),
        created_by: c.get('principal').name,
      }
      await store.putApi(api)
      return c.json(apiSummary(api), 201)
    }
  )
  app.get('/openapi', doc({ summary: 'Registered OpenAPI documents' }), async (c) =>
    c.json({ apis: (await store.listApis()).map(apiSummary) })
  )
  app.get('/openapi/:name', doc({ summary: 'One registered OpenAPI document' }), async (c) => {
    const api = await getApi(c.req.param('name'))
    return c.json({ ...apiSummary(api), document: api.document })
  })
  app.delete(
    '/openapi/:name',
    doc({ summary: 'Remove a registered OpenAPI document', role: 'admin' }),
    requireRole('admin'),
    async (c) => {
      const api = await getApi(c.req.param('name'))
      await store.deleteApi(api.name)
      return c.json({ name: api.name, deleted: true })
    }
  )

  return app
}

/** What the API shows of a registered document: the credential's variable name, never a value. */
function apiSummary(api: ApiRecord) {
  return {
    name: api.name,
    base_url: api.base_url,
    auth: api.auth,
    operations: api.operations,
    created_at: api.created_at,
    created_by: api.created_by,
  }
}

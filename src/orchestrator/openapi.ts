/**
 * The API's own OpenAPI 3.1 document (SPEC §4, `GET /api/v1/openapi.json`), generated from the
 * app itself: each route carries a `doc()` middleware naming its summary, the role it needs and
 * the valibot schema that validates its body; the document walks `app.routes` and turns those
 * schemas into JSON Schema (@valibot/to-json-schema). Nothing is kept by hand beside the code.
 * @module
 */
import { toJsonSchema } from '@valibot/to-json-schema'
import type { Hono, MiddlewareHandler } from 'hono'
import type * as v from 'valibot'
import type { Role } from '../config.ts'
import { VERSION } from '../version.ts'

export interface RouteDoc {
  summary: string
  /** The role a caller needs (any token when unset; `none`: no auth). */
  role?: Role | 'none'
  /** The schema `parseBody` checks the JSON body with. */
  body?: v.GenericSchema
  /** The body may be left out. */
  bodyOptional?: boolean
  /** Query parameters: name → description. */
  query?: Record<string, string>
  /** Statuses besides 200/4xx, e.g. `{201: 'created'}`. */
  responses?: Record<number, string>
  /** The response is a stream of server-sent events. */
  sse?: boolean
}

const DOCS = new WeakMap<object, RouteDoc>()

/** A no-op middleware that documents its route. */
export function doc(d: RouteDoc): MiddlewareHandler {
  const mw: MiddlewareHandler = (_c, next) => next()
  DOCS.set(mw, d)
  return mw
}

export interface Operation {
  method: string
  /** The Hono path (`/api/v1/runs/:id`). */
  path: string
  doc?: RouteDoc
}

/** The app's routes under `base` (method + path), each with its doc when it has one. */
export function operationsOf(app: Hono<any>, base: string): Operation[] {
  const ops = new Map<string, Operation>()
  for (const r of app.routes) {
    if (r.method === 'ALL' || !r.path.startsWith(base)) continue
    const key = `${r.method} ${r.path}`
    const op = ops.get(key) ?? { method: r.method, path: r.path }
    op.doc ??= DOCS.get(r.handler)
    ops.set(key, op)
  }
  return [...ops.values()]
}

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            properties: { path: { type: 'string' }, message: { type: 'string' } },
          },
        },
      },
    },
  },
}

/** `/runs/:id` → `/runs/{id}`; `:decision{approve|reject}` → `{decision}` with its values. */
function openApiPath(path: string): {
  path: string
  params: { name: string; values?: string[] }[]
} {
  const params: { name: string; values?: string[] }[] = []
  const converted = path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{([^}]*)\})?/g, (_m, name, _p, re) => {
    params.push({ name, values: re ? String(re).split('|') : undefined })
    return `{${name}}`
  })
  return { path: converted, params }
}

function schemaOf(s: v.GenericSchema): Record<string, unknown> {
  const { $schema: _drop, ...json } = toJsonSchema(s, { errorMode: 'ignore' }) as Record<
    string,
    unknown
  >
  return json
}

export function openApiDocument(app: Hono<any>, base = '/api/v1'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operationsOf(app, base)) {
    const d = op.doc ?? { summary: '(undocumented)' }
    const { path, params } = openApiPath(op.path.slice(base.length) || '/')
    const parameters = [
      ...params.map((p) => ({
        name: p.name,
        in: 'path',
        required: true,
        schema: p.values ? { type: 'string', enum: p.values } : { type: 'string' },
      })),
      ...Object.entries(d.query ?? {}).map(([name, description]) => ({
        name,
        in: 'query',
        required: false,
        description,
        schema: { type: 'string' },
      })),
    ]
    const errors = { $ref: '#/components/responses/Error' }
    const responses: Record<string, unknown> = {
      ...Object.fromEntries(
        Object.entries(d.responses ?? { 200: 'OK' }).map(([status, description]) => [
          status,
          d.sse
            ? { description, content: { 'text/event-stream': { schema: { type: 'string' } } } }
            : { description, content: { 'application/json': { schema: { type: 'object' } } } },
        ])
      ),
      '400': errors,
      ...(d.role === 'none' ? {} : { '401': errors, '403': errors }),
      '404': errors,
      ...(d.body ? { '413': errors, '422': errors } : {}),
    }
    const operation: Record<string, unknown> = {
      summary: d.summary,
      operationId: `${op.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      ...(parameters.length ? { parameters } : {}),
      ...(d.body
        ? {
            requestBody: {
              required: !d.bodyOptional,
              content: { 'application/json': { schema: schemaOf(d.body) } },
            },
          }
        : {}),
      responses,
      ...(d.role === 'none' ? { security: [] } : {}),
      ...(d.role && d.role !== 'none' ? { 'x-aob-role': d.role } : {}),
    }
    paths[path] ??= {}
    paths[path][op.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: { title: 'aob API', version: VERSION },
    servers: [{ url: base }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: ERROR_SCHEMA },
      responses: {
        Error: {
          description: 'An error (SPEC §4): 400, 401, 403, 404, 409, 413, 422, 429',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  }
}

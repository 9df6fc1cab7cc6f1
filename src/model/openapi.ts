/**
 * Registered OpenAPI documents (SPEC §4.2) and the calls `openapi_action` makes from them. A
 * document is checked and dereferenced by @apidevtools/swagger-parser (kept; OpenAPI 3.0 and
 * 3.1) with external references off — a stored document can never make the server fetch a
 * file or a URL — and every operation needs an `operationId`. A call is built from the model's
 * arguments only through the operation's declared parameters, each checked against its schema;
 * the auth header is the worker's to add, never the model's.
 * @module
 */
import SwaggerParser from '@apidevtools/swagger-parser'
import * as v from 'valibot'
import { schemaErrors } from '../agent/json-schema.ts'
import type { ErrorDetail } from '../errors.ts'
import { isJsonObject, strictObject } from './schema.ts'
import { REGISTRY_NAME } from './tool-record.ts'

export interface ApiAuth {
  /** The header that carries the credential. */
  header: string
  /** The environment variable of the agent worker that holds it (never stored or shown). */
  secret: string
}

export interface ApiRecord {
  name: string
  /** Dereferenced: no `$ref` left. */
  document: Record<string, unknown>
  base_url: string | null
  auth: ApiAuth | null
  operations: string[]
  created_at: string
  created_by: string | null
}

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/
/** aob's own variables are not credentials an API may be given. */
const SECRET_NAME = /^(?!AOB_|OPENAI_)[A-Z][A-Z0-9_]{0,63}$/

export const ApiBody = strictObject({
  name: v.pipe(v.string(), v.regex(REGISTRY_NAME, 'must be 1-64 of [a-z0-9._-]')),
  document: v.custom<Record<string, unknown>>(isJsonObject, 'must be an OpenAPI document (object)'),
  base_url: v.optional(
    v.pipe(v.string(), v.maxLength(2048), v.check(isHttpUrl, 'must be an http(s) URL'))
  ),
  auth: v.optional(
    strictObject({
      header: v.pipe(v.string(), v.regex(HEADER_NAME, 'must be a header name')),
      secret: v.pipe(
        v.string(),
        v.regex(
          SECRET_NAME,
          'must name an environment variable ([A-Z][A-Z0-9_]*, not AOB_* or OPENAI_*)'
        )
      ),
    })
  ),
})
export type ApiBody = v.InferOutput<typeof ApiBody>

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

interface Operation {
  method: string
  path: string
  parameters: { name: string; in: string; required?: boolean; schema?: unknown }[]
  body?: { required: boolean; schema?: unknown }
}

/** Checks and dereferences a document; the errors say what is wrong, with their paths. */
export async function checkApi(
  body: ApiBody
): Promise<
  { document: Record<string, unknown>; operations: string[] } | { errors: ErrorDetail[] }
> {
  const version = String(body.document.openapi ?? '')
  if (!/^3\.[01]\.\d+$/.test(version))
    return {
      errors: [{ path: '/document/openapi', message: 'must be an OpenAPI 3.0 or 3.1 document' }],
    }
  let document: Record<string, unknown>
  try {
    document = (await SwaggerParser.validate(
      structuredClone(body.document) as never,
      {
        resolve: { external: false },
        dereference: { circular: false },
      } as never
    )) as unknown as Record<string, unknown>
  } catch (e) {
    return { errors: [{ path: '/document', message: firstLines((e as Error).message) }] }
  }
  if (JSON.stringify(document).includes('"$ref"'))
    return {
      errors: [
        { path: '/document', message: 'external $ref pointers are not resolved: inline them' },
      ],
    }
  const errors: ErrorDetail[] = []
  const ids: string[] = []
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, any>)) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (!op) continue
      const at = `/document/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}`
      if (typeof op.operationId !== 'string' || !op.operationId)
        errors.push({ path: `${at}/operationId`, message: 'every operation needs an operationId' })
      else if (ids.includes(op.operationId))
        errors.push({
          path: `${at}/operationId`,
          message: `operationId "${op.operationId}" is used twice`,
        })
      else ids.push(op.operationId)
    }
  }
  if (!body.base_url && !serverUrl(document))
    errors.push({
      path: '/base_url',
      message: 'needed: the document has no absolute http(s) server URL',
    })
  return errors.length ? { errors } : { document, operations: ids }
}

function serverUrl(document: Record<string, unknown>): string | null {
  const url = (document.servers as { url?: unknown }[] | undefined)?.[0]?.url
  return typeof url === 'string' && isHttpUrl(url) ? url : null
}

function findOperation(document: Record<string, unknown>, id: string): Operation | null {
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, any>)) {
    for (const method of METHODS) {
      const op = item?.[method]
      if (op?.operationId !== id) continue
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])]
      const json = op.requestBody?.content?.['application/json']
      return {
        method: method.toUpperCase(),
        path,
        parameters,
        body: op.requestBody
          ? { required: !!op.requestBody.required, schema: json?.schema }
          : undefined,
      }
    }
  }
  return null
}

/** Headers a model may never set (transport, identity, or the API's own credential). */
const FORBIDDEN_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'te',
  'upgrade',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-real-ip',
])

export interface ApiCall {
  method: string
  url: string
  headers: Record<string, string>
  body?: unknown
}

/** The HTTP call for `operationId` with the model's params and body, or what is wrong with them. */
export function buildApiCall(
  api: ApiRecord,
  operationId: string,
  params: Record<string, unknown> = {},
  body?: unknown
): ApiCall | { errors: ErrorDetail[] } {
  const op = findOperation(api.document, operationId)
  if (!op)
    return {
      errors: [{ path: '/operation_id', message: `${api.name} has no operation "${operationId}"` }],
    }
  const errors: ErrorDetail[] = []
  const declared = new Map(op.parameters.filter((p) => p.in !== 'cookie').map((p) => [p.name, p]))
  for (const name of Object.keys(params))
    if (!declared.has(name))
      errors.push({ path: `/params/${name}`, message: 'not a parameter of this operation' })
  let path = op.path
  const query = new URLSearchParams()
  const headers: Record<string, string> = {}
  for (const p of declared.values()) {
    const value = params[p.name]
    if (value === undefined) {
      if (p.required || p.in === 'path')
        errors.push({ path: `/params/${p.name}`, message: `required (${p.in} parameter)` })
      continue
    }
    for (const e of p.schema ? schemaErrors(p.schema, value) : [])
      errors.push({ path: `/params/${p.name}${e.path === '/' ? '' : e.path}`, message: e.message })
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    if (p.in === 'path') path = path.replaceAll(`{${p.name}}`, encodeURIComponent(text))
    else if (p.in === 'query') query.append(p.name, text)
    else if (p.in === 'header') {
      const lower = p.name.toLowerCase()
      if (FORBIDDEN_HEADERS.has(lower) || lower === api.auth?.header.toLowerCase())
        errors.push({ path: `/params/${p.name}`, message: 'this header cannot be set' })
      else if (/[\r\n]/.test(text))
        errors.push({ path: `/params/${p.name}`, message: 'a header value is one line' })
      else headers[lower] = text
    }
  }
  if (op.body) {
    if (body === undefined && op.body.required)
      errors.push({ path: '/body', message: 'this operation needs a body' })
    else if (body !== undefined && op.body.schema)
      for (const e of schemaErrors(op.body.schema, body))
        errors.push({ path: `/body${e.path === '/' ? '' : e.path}`, message: e.message })
  } else if (body !== undefined)
    errors.push({ path: '/body', message: 'this operation takes no body' })
  if (errors.length) return { errors }
  const base = (api.base_url ?? serverUrl(api.document) ?? '').replace(/\/+$/, '')
  const qs = query.toString()
  return {
    method: op.method,
    url: `${base}${path}${qs ? `?${qs}` : ''}`,
    headers,
    ...(body !== undefined ? { body } : {}),
  }
}

function firstLines(message: string): string {
  return message.split('\n').slice(0, 6).join(' ').slice(0, 1_000)
}

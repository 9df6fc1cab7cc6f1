/** Reading and checking request bodies and parameters. @module */
import type { Context } from 'hono'
import * as v from 'valibot'
import { AobError, ErrorCode } from '../errors.ts'
import { issuesToDetails } from '../model/issues.ts'
import { jsonProblem } from '../model/json-bounds.ts'

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export interface ReadJsonOptions {
  /** Nesting limit of the body (Limits.maxJsonDepth). */
  maxDepth: number
  /** An empty body reads as `{}`. */
  optional?: boolean
  /** The body is a workflow document: a body out of bounds is an invalid workflow (422). */
  document?: boolean
}

/**
 * The body as JSON, whatever its Content-Type says (curl -d sends form encoding). Malformed
 * JSON is a 400, never a 500; so is a body nested deeper than the limit or holding strings no
 * store can keep (422 for a document), checked before anything recurses into it.
 */
export async function readJson(c: Context, opts: ReadJsonOptions): Promise<unknown> {
  let text: string
  try {
    text = UTF8.decode(await c.req.arrayBuffer())
  } catch {
    throw new AobError(ErrorCode.InvalidJson, 'request body is not valid UTF-8')
  }
  if (text.trim() === '') {
    if (opts.optional) return {}
    throw new AobError(ErrorCode.InvalidJson, 'request body is empty; expected JSON')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new AobError(
      ErrorCode.InvalidJson,
      `request body is not valid JSON: ${(e as Error).message}`
    )
  }
  const problem = jsonProblem(value, opts.maxDepth)
  if (problem) {
    const code = opts.document ? ErrorCode.InvalidWorkflow : ErrorCode.BadRequest
    throw new AobError(code, `request body is out of bounds: ${problem.message}`, [problem])
  }
  return value
}

/** Parses `value` with `schema`, or throws 400 with details. */
export function parseBody<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  code:
    | typeof ErrorCode.BadRequest
    | typeof ErrorCode.InvalidPatch
    | typeof ErrorCode.InvalidDecision = ErrorCode.BadRequest
): v.InferOutput<S> {
  const res = v.safeParse(schema, value)
  if (!res.success)
    throw new AobError(
      code,
      'request body does not match the expected shape',
      issuesToDetails(res.issues)
    )
  return res.output
}

export function intParam(
  raw: string | undefined,
  name: string,
  dflt: number,
  min: number,
  max: number
): number {
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AobError(ErrorCode.BadRequest, `${name} must be an integer from ${min} to ${max}`, [
      { path: name, message: `got "${raw}"` },
    ])
  }
  return n
}

/**
 * A page of a list read with `limit + 1` rows: the first `limit`, and the cursor of the next
 * page (the last id shown) when there was one more.
 */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number
): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit)
  return { page, next_cursor: rows.length > limit ? page[page.length - 1].id : null }
}

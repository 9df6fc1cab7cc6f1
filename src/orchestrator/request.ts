/** Reading and checking request bodies and parameters. @module */
import type { Context } from 'hono'
import * as v from 'valibot'
import { AobError, ErrorCode } from '../errors.ts'
import { issuesToDetails } from '../model/issues.ts'

/** The body as JSON; malformed JSON is a 400, never a 500. An optional body reads as `{}`. */
export async function readJson(c: Context, opts: { optional?: boolean } = {}): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (opts.optional) return {}
    throw new AobError(ErrorCode.InvalidJson, 'request body is empty; expected JSON')
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new AobError(ErrorCode.InvalidJson, `request body is not valid JSON: ${(e as Error).message}`)
  }
}

/** Parses `value` with `schema`, or throws 400 with details. */
export function parseBody<S extends v.GenericSchema>(schema: S, value: unknown, code: typeof ErrorCode.BadRequest | typeof ErrorCode.InvalidPatch = ErrorCode.BadRequest): v.InferOutput<S> {
  const res = v.safeParse(schema, value)
  if (!res.success) throw new AobError(code, 'request body does not match the expected shape', issuesToDetails(res.issues))
  return res.output
}

export function intParam(raw: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new AobError(ErrorCode.BadRequest, `${name} must be an integer from ${min} to ${max}`, [{ path: name, message: `got "${raw}"` }])
  }
  return n
}

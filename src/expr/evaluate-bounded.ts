/**
 * One JSONata evaluation under bounds, the same wherever it runs (inline or in the sandbox):
 * compiled once per source and bounds with the restricted built-ins bound into it, the result
 * turned into plain JSON data and refused when it is too deep or too large.
 * @module
 */
import jsonata from 'jsonata'
import { BoundedMap } from '../bounded-map.ts'
import { AobError, ErrorCode } from '../errors.ts'
import { jsonProblem } from '../model/json-bounds.ts'
import { restrictedFunctions } from './functions.ts'

export interface ExpressionBounds {
  /** Wall-clock budget of one evaluation. */
  timeoutMs: number
  /** Maximum evaluation depth (recursion). */
  maxDepth: number
  /** Maximum length of any sequence built during evaluation. */
  maxSequence: number
  /** Maximum size of the result as JSON text (and of any string `$pad` builds). */
  maxResultBytes: number
}

export type Compiled = ReturnType<typeof jsonata>

const CACHE_LIMIT = 2_000
// Pure memoisation (compiled expressions), process-wide by design.
const cache = new BoundedMap<string, Compiled>(CACHE_LIMIT)
/** Results may nest as deep as any JSON value that enters aob. */
const MAX_RESULT_DEPTH = 64

/** Compiles (cached); throws AobError(EXPRESSION_ERROR) naming the position of a syntax error. */
export function compileBounded(
  source: string,
  bounds: ExpressionBounds,
  timeoutMs = bounds.timeoutMs
): Compiled {
  // JSONata takes its bounds at compile time, so they are part of the cache key.
  const key = `${timeoutMs}:${bounds.maxDepth}:${bounds.maxSequence}:${source}`
  const hit = cache.get(key)
  if (hit) return hit
  let compiled: Compiled
  try {
    compiled = jsonata(source, {
      timeout: timeoutMs,
      stack: bounds.maxDepth,
      sequence: bounds.maxSequence,
    })
  } catch (e) {
    throw new AobError(ErrorCode.ExpressionError, describeJsonataError(e, source))
  }
  for (const [name, fn] of Object.entries(restrictedFunctions(bounds.maxResultBytes)))
    compiled.assign(name, fn)
  cache.set(key, compiled)
  return compiled
}

/** Evaluates; the result is plain JSON data (`undefined` for no result). */
export async function evaluateBounded(
  compiled: Compiled,
  source: string,
  input: unknown,
  bindings: Record<string, unknown>,
  bounds: ExpressionBounds
): Promise<unknown> {
  let result: unknown
  try {
    result = await compiled.evaluate(input, bindings)
  } catch (e) {
    if (e instanceof AobError) throw e
    throw new AobError(ErrorCode.ExpressionError, describeJsonataError(e, source))
  }
  if (result === undefined || typeof result === 'function') return undefined
  if (result === null || typeof result !== 'object') {
    if (typeof result === 'string' && result.length > bounds.maxResultBytes)
      throw tooLarge(result.length, bounds)
    return result
  }
  // JSONata sequences and objects are not plain JSON: bound them, then copy them as JSON.
  const deep = jsonProblem(result, MAX_RESULT_DEPTH)
  if (deep && deep.message.startsWith('nested'))
    throw new AobError(ErrorCode.ExpressionError, `expression result is ${deep.message}`)
  const text = JSON.stringify(result)
  if (text === undefined) return undefined
  if (text.length > bounds.maxResultBytes) throw tooLarge(text.length, bounds)
  return JSON.parse(text)
}

function tooLarge(size: number, bounds: ExpressionBounds): AobError {
  return new AobError(
    ErrorCode.ExpressionError,
    `expression result is ${size} bytes, over the limit of ${bounds.maxResultBytes}`
  )
}

/** True for JSONata's own "ran past its time bound" error. */
export function isTimeout(e: unknown): boolean {
  return e instanceof AobError && e.message.includes('(D1012)')
}

export function describeJsonataError(e: unknown, source: string): string {
  const err = e as { code?: string; message?: string; position?: number; token?: string }
  const where = typeof err.position === 'number' ? ` at position ${err.position}` : ''
  const code = err.code ? ` (${err.code})` : ''
  const shown = source.length > 80 ? `${source.slice(0, 77)}...` : source
  return `${err.message ?? String(e)}${code}${where} in expression "${shown}"`
}

/**
 * JSONata expressions: compiled once (cached), evaluated with bounds on time, depth and size.
 * One language for `when`, `{{ … }}` templates and the `transform` pipeline step.
 * @module
 */
import jsonata from 'jsonata'
import { AobError, ErrorCode } from '../errors.ts'

export interface ExpressionBounds {
  /** Wall-clock budget of one evaluation. */
  timeoutMs: number
  /** Maximum evaluation depth (recursion). */
  maxDepth: number
  /** Maximum length of any sequence built during evaluation. */
  maxSequence: number
  /** Maximum size of the result as JSON text. */
  maxResultBytes: number
}

export const DEFAULT_BOUNDS: ExpressionBounds = {
  timeoutMs: 1_000,
  maxDepth: 200,
  maxSequence: 100_000,
  maxResultBytes: 4 * 1024 * 1024,
}

type Compiled = ReturnType<typeof jsonata>
const CACHE_LIMIT = 2_000
const cache = new Map<string, Compiled>()

/** Throws AobError(EXPRESSION_ERROR) naming the position of a syntax error. */
export function compileExpression(source: string, bounds: ExpressionBounds = DEFAULT_BOUNDS): Compiled {
  // JSONata takes its bounds at compile time, so they are part of the cache key.
  const key = `${bounds.timeoutMs}:${bounds.maxDepth}:${bounds.maxSequence}:${source}`
  const hit = cache.get(key)
  if (hit) return hit
  let compiled: Compiled
  try {
    compiled = jsonata(source, { timeout: bounds.timeoutMs, stack: bounds.maxDepth, sequence: bounds.maxSequence })
  } catch (e) {
    throw new AobError(ErrorCode.ExpressionError, describeJsonataError(e, source))
  }
  const regex = findRegex(compiled.ast())
  if (regex !== null) {
    // JSONata would run it on the host's backtracking engine: a user's or a model's pattern
    // could stall the worker, or on Bun silently fail past the backtracking limit.
    throw new AobError(ErrorCode.ExpressionError, `regular expressions are not allowed in expressions (position ${regex}); use the regex_extract step (RE2, linear time)`)
  }
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  cache.set(key, compiled)
  return compiled
}

/** Returns the syntax error message, or null when `source` compiles. */
export function expressionSyntaxError(source: string): string | null {
  try {
    compileExpression(source)
    return null
  } catch (e) {
    return (e as Error).message
  }
}

export async function evaluateExpression(
  source: string,
  input: unknown,
  bindings: Record<string, unknown> = {},
  bounds: ExpressionBounds = DEFAULT_BOUNDS
): Promise<unknown> {
  const compiled = compileExpression(source, bounds)
  let result: unknown
  try {
    result = await compiled.evaluate(input, bindings)
  } catch (e) {
    throw new AobError(ErrorCode.ExpressionError, describeJsonataError(e, source))
  }
  result = normalize(result)
  const size = result === undefined ? 0 : JSON.stringify(result).length
  if (size > bounds.maxResultBytes) {
    throw new AobError(
      ErrorCode.ExpressionError,
      `expression result is ${size} bytes, over the limit of ${bounds.maxResultBytes}`
    )
  }
  return result
}

/** JSONata sequences and functions are not JSON: turn the result into plain JSON data. */
function normalize(value: unknown): unknown {
  if (value === undefined) return undefined
  if (typeof value === 'function') return undefined
  return JSON.parse(JSON.stringify(value))
}

// --- internal ---

/** The position of the first regex literal in a JSONata AST, or null. */
function findRegex(node: unknown): number | null {
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = findRegex(n)
      if (found !== null) return found
    }
    return null
  }
  if (!node || typeof node !== 'object') return null
  const n = node as { type?: string; position?: number }
  if (n.type === 'regex') return n.position ?? 0
  for (const value of Object.values(node)) {
    const found = findRegex(value)
    if (found !== null) return found
  }
  return null
}

function describeJsonataError(e: unknown, source: string): string {
  const err = e as { code?: string; message?: string; position?: number; token?: string }
  const where = typeof err.position === 'number' ? ` at position ${err.position}` : ''
  const code = err.code ? ` (${err.code})` : ''
  const shown = source.length > 80 ? `${source.slice(0, 77)}...` : source
  return `${err.message ?? String(e)}${code}${where} in expression "${shown}"`
}

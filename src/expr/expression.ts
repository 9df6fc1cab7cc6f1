/**
 * JSONata expressions: one language for `when`, `{{ … }}` templates and the `transform` step,
 * compiled once (cached) and evaluated under bounds on time, depth, size and memory, so that no
 * expression from a workflow or a model can keep a process from answering:
 * - *inline* expressions (linear built-ins only, see functions.ts) run on the calling thread
 *   with a short time bound, and move to the sandbox if they overrun it;
 * - every other expression runs in the sandbox, a terminable Worker (sandbox.ts).
 * Regex literals are refused (they would run on the host's backtracking engine; use the
 * regex_extract step), and so is `$eval`.
 * @module
 */
import { BoundedMap } from '../bounded-map.ts'
import { AobError, ErrorCode } from '../errors.ts'
import {
  compileBounded,
  describeJsonataError,
  evaluateBounded,
  isTimeout,
  type ExpressionBounds,
} from './evaluate-bounded.ts'
import { isInline } from './functions.ts'
import { createSandbox, type Sandbox } from './sandbox.ts'

export type { ExpressionBounds } from './evaluate-bounded.ts'

export const DEFAULT_BOUNDS: ExpressionBounds = {
  timeoutMs: 1_000,
  maxDepth: 200,
  maxSequence: 100_000,
  maxResultBytes: 4 * 1024 * 1024,
}

/** Time an inline expression may take on the calling thread before it moves to the sandbox. */
export const INLINE_BUDGET_MS = 50

const CLASS_LIMIT = 5_000
// Pure memoisation of pure functions (no deployment state), so process-wide by design.
const inlineBySource = new BoundedMap<string, boolean>(CLASS_LIMIT)
let sandbox: Sandbox | null = null

/** Checks `source`: syntax, no regex literal. Returns whether it runs inline. */
function prepare(source: string): boolean {
  const known = inlineBySource.get(source)
  if (known !== undefined) return known
  const compiled = compileBounded(source, DEFAULT_BOUNDS)
  const regex = findRegex(compiled.ast())
  if (regex !== null) {
    throw new AobError(
      ErrorCode.ExpressionError,
      `regular expressions are not allowed in expressions (position ${regex}); use the regex_extract step (RE2, linear time)`
    )
  }
  const inline = isInline(compiled.ast())
  inlineBySource.set(source, inline)
  return inline
}

/** Returns the syntax error message, or null when `source` compiles. */
export function expressionSyntaxError(source: string): string | null {
  try {
    prepare(source)
    return null
  } catch (e) {
    return (e as Error).message
  }
}

/** True when `source` runs on the calling thread (cheap by construction). */
export function runsInline(source: string): boolean {
  return prepare(source)
}

export async function evaluateExpression(
  source: string,
  input: unknown,
  bindings: Record<string, unknown> = {},
  bounds: ExpressionBounds = DEFAULT_BOUNDS
): Promise<unknown> {
  if (prepare(source)) {
    try {
      const budget = Math.min(bounds.timeoutMs, INLINE_BUDGET_MS)
      return await evaluateBounded(
        compileBounded(source, bounds, budget),
        source,
        input,
        bindings,
        bounds
      )
    } catch (e) {
      if (!isTimeout(e) || bounds.timeoutMs <= INLINE_BUDGET_MS) throw e
      // Linear but slow (large data): give it its whole bound, off this thread.
    }
  }
  sandbox ??= createSandbox()
  let payload: string
  try {
    payload = JSON.stringify({ input, bindings })
  } catch (e) {
    throw new AobError(ErrorCode.ExpressionError, describeJsonataError(e, source))
  }
  const json = await sandbox.evaluate(source, payload, bounds)
  return json === undefined ? undefined : JSON.parse(json)
}

/** Stops the sandbox's Workers (a process that exits needs not: they do not keep it alive). */
export function closeExpressionSandbox(): void {
  sandbox?.close()
  sandbox = null
}

/** Jobs the sandbox stopped for time or memory (for tests and metrics). */
export function sandboxStops(): { time: number; memory: number } {
  return { ...(sandbox?.stopped ?? { time: 0, memory: 0 }) }
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

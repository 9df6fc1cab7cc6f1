/**
 * What JSONata may call, and which expressions are cheap enough to run on the calling thread.
 *
 * An expression is *inline* when its AST has no user function (lambda, partial), no range
 * (`[1..n]`), no sort or transform operator and calls only built-ins whose cost is linear in
 * their input: JSONata checks its time bound before every evaluation step, so such an
 * expression can only overrun by one linear step. Everything else runs in the sandbox (a
 * terminable Worker). `$eval` is gone (it ran strings as expressions, past the regex ban) and
 * `$pad` is bounded, on both sides.
 * @module
 */
import { AobError, ErrorCode } from '../errors.ts'

/** Built-ins that run in time linear in their arguments and allocate no more than that. */
const LINEAR_BUILTINS = new Set([
  'sum',
  'count',
  'max',
  'min',
  'average',
  'string',
  'substring',
  'substringBefore',
  'substringAfter',
  'lowercase',
  'uppercase',
  'length',
  'trim',
  'contains',
  'split',
  'join',
  'number',
  'floor',
  'ceil',
  'round',
  'abs',
  'sqrt',
  'power',
  'boolean',
  'not',
  'keys',
  'lookup',
  'append',
  'exists',
  'spread',
  'merge',
  'reverse',
  'error',
  'assert',
  'type',
  'base64encode',
  'base64decode',
  'encodeUrlComponent',
  'encodeUrl',
  'decodeUrlComponent',
  'decodeUrl',
  'clone',
  'now',
  'millis',
])

/** Every JSONata built-in (2.x): a bare reference to one outside the linear set is not inline. */
const ALL_BUILTINS = new Set([
  ...LINEAR_BUILTINS,
  'pad',
  'match',
  'replace',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'parseInteger',
  'random',
  'map',
  'zip',
  'filter',
  'single',
  'reduce',
  'sift',
  'each',
  'sort',
  'shuffle',
  'distinct',
  'eval',
  'toMillis',
  'fromMillis',
])

const NOT_INLINE_TYPES = new Set(['lambda', 'partial', 'regex', 'transform', 'sort'])

/** True when the compiled expression's AST is in the inline class described above. */
export function isInline(node: unknown): boolean {
  if (Array.isArray(node)) return node.every(isInline)
  if (!node || typeof node !== 'object') return true
  const n = node as {
    type?: string
    value?: unknown
    procedure?: { type?: string; value?: unknown }
  }
  if (n.type !== undefined && NOT_INLINE_TYPES.has(n.type)) return false
  if (n.type === 'binary' && n.value === '..') return false
  if (n.type === 'function') {
    const p = n.procedure
    if (p?.type !== 'variable' || !LINEAR_BUILTINS.has(String(p.value))) return false
  }
  if (
    n.type === 'variable' &&
    ALL_BUILTINS.has(String(n.value)) &&
    !LINEAR_BUILTINS.has(String(n.value))
  )
    return false
  for (const [key, value] of Object.entries(node)) {
    if (key === 'procedure' || key === 'position' || key === 'type' || key === 'value') continue
    if (value && typeof value === 'object' && !isInline(value)) return false
  }
  return true
}

/** Bindings that replace JSONata built-ins wherever an expression runs. */
export function restrictedFunctions(maxResultBytes: number): Record<string, unknown> {
  return {
    eval: () => {
      throw new AobError(
        ErrorCode.ExpressionError,
        '$eval is not available: it would run any string as an expression'
      )
    },
    pad: (str: unknown, width: unknown, char?: unknown) => {
      if (str === undefined) return undefined
      const s = String(str)
      const w = Math.trunc(Number(width))
      if (!Number.isFinite(w))
        throw new AobError(ErrorCode.ExpressionError, '$pad: width must be a number')
      if (Math.abs(w) > maxResultBytes)
        throw new AobError(
          ErrorCode.ExpressionError,
          `$pad: width ${w} is over the limit of ${maxResultBytes}`
        )
      const fill = char === undefined || char === '' ? ' ' : String(char)
      return w >= 0 ? s.padEnd(w, fill) : s.padStart(-w, fill)
    },
  }
}

/**
 * Bounds on JSON values that arrive from outside (request bodies, documents, patches, run
 * input, node outputs), checked without recursion before anything that recurses
 * (JSON.stringify, valibot, structuredClone, the stores) sees the value: nesting depth, and
 * strings every store can keep (no NUL, no lone surrogate: Postgres refuses both), finite numbers
 * (`1e400` parses as Infinity and would be stored as null).
 * @module
 */
import type { ErrorDetail } from '../errors.ts'
import { escapePointer } from '../expr/template.ts'

export const DEFAULT_MAX_JSON_DEPTH = 64

interface Frame {
  value: unknown
  depth: number
  key: string
  parent: Frame | null
}

/**
 * The first problem of `value` as `{path, message}` (path under `base`), or null. The top-level
 * value is depth 1. Iterative, so safe on any depth.
 */
export function jsonProblem(value: unknown, maxDepth: number, base = ''): ErrorDetail | null {
  if (typeof value === 'string')
    return badString(value) ? detail(base, '', `string ${badString(value)}`) : null
  if (typeof value === 'number')
    return Number.isFinite(value)
      ? null
      : detail(base, '', 'number out of range (JSON numbers must be finite doubles)')
  if (value === null || typeof value !== 'object') return null
  const stack: Frame[] = [{ value, depth: 1, key: '', parent: null }]
  while (stack.length > 0) {
    const frame = stack.pop() as Frame
    if (frame.depth > maxDepth)
      return detail(base, pointerOf(frame), `nested deeper than ${maxDepth} levels`)
    const v = frame.value
    const isArray = Array.isArray(v)
    const keys = isArray ? null : Object.keys(v as object)
    const count = isArray ? (v as unknown[]).length : (keys as string[]).length
    for (let i = count - 1; i >= 0; i--) {
      const key = isArray ? String(i) : (keys as string[])[i]
      if (!isArray) {
        const bad = badString(key)
        if (bad)
          return detail(
            base,
            pointerOf({ value: null, depth: 0, key, parent: frame }),
            `key ${bad}`
          )
      }
      const item = (v as Record<string, unknown>)[key]
      if (typeof item === 'string') {
        const bad = badString(item)
        if (bad)
          return detail(
            base,
            pointerOf({ value: null, depth: 0, key, parent: frame }),
            `string ${bad}`
          )
      } else if (typeof item === 'number' && !Number.isFinite(item)) {
        return detail(
          base,
          pointerOf({ value: null, depth: 0, key, parent: frame }),
          'number out of range (JSON numbers must be finite doubles)'
        )
      } else if (item !== null && typeof item === 'object') {
        stack.push({ value: item, depth: frame.depth + 1, key, parent: frame })
      }
    }
  }
  return null
}

// --- internal ---

function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (\\u0000)'
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate'
  return null
}

function detail(base: string, at: string, what: string): ErrorDetail {
  const path = base + at || '/'
  const shown = path.length > 120 ? `${path.slice(0, 117)}...` : path
  return { path, message: `${what} (at ${shown})` }
}

function pointerOf(frame: Frame): string {
  const keys: string[] = []
  for (let f: Frame | null = frame; f?.parent; f = f.parent) keys.push(escapePointer(f.key))
  return keys.length ? `/${keys.reverse().join('/')}` : ''
}

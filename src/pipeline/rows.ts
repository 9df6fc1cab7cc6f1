/** Tables as pipelines see them: arrays of plain objects, with bounds. @module */
import { own } from '../model/dict.ts'

export const MAX_ROWS = 100_000
/** Wall-clock budget of one step over a table. */
export const STEP_BUDGET_MS = 5_000

export type Row = Record<string, unknown>

/** The value as rows, or a clear error naming what it got instead. */
export function rowsOf(value: unknown, op: string): Row[] {
  if (!Array.isArray(value))
    throw new Error(`${op} needs a table (an array of objects), got ${describe(value)}`)
  if (value.length > MAX_ROWS)
    throw new Error(`${op}: the table has ${value.length} rows, over the limit of ${MAX_ROWS}`)
  value.forEach((row, i) => {
    if (!row || typeof row !== 'object' || Array.isArray(row))
      throw new Error(`${op}: row ${i} is ${describe(row)}, not an object`)
  })
  return value as Row[]
}

/** A field by dotted path (`a.b.c`); undefined when absent. */
export function field(row: unknown, path: string): unknown {
  let cur: unknown = row
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = own(cur as Record<string, unknown>, key)
  }
  return cur
}

/** Fails when no row has the field: a misspelt key should not sort or group silently. */
export function requireField(rows: Row[], path: string, op: string): void {
  if (rows.length > 0 && !rows.some((r) => field(r, path) !== undefined)) {
    const keys = Object.keys(rows[0]).slice(0, 10).join(', ')
    throw new Error(`${op}: no row has the field "${path}" (the first row has: ${keys})`)
  }
}

/** Throws when a step runs past its budget or its task was aborted; call it inside loops. */
export function deadline(signal?: AbortSignal, budgetMs = STEP_BUDGET_MS): () => void {
  const end = Date.now() + budgetMs
  let n = 0
  return () => {
    if (++n % 512 !== 0) return
    signal?.throwIfAborted()
    if (Date.now() > end) throw new Error(`step ran longer than ${budgetMs} ms`)
  }
}

/** Total order for sorting mixed values: null/undefined, booleans, numbers, strings, others. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (x: unknown) =>
    x === null || x === undefined
      ? 0
      : typeof x === 'boolean'
        ? 1
        : typeof x === 'number'
          ? 2
          : typeof x === 'string'
            ? 3
            : 4
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (ra === 2 || ra === 1) return Number(a) - Number(b)
  if (ra === 3) return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
  if (ra === 4)
    return JSON.stringify(a) < JSON.stringify(b)
      ? -1
      : JSON.stringify(a) > JSON.stringify(b)
        ? 1
        : 0
  return 0
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

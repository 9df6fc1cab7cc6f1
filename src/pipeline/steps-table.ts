/**
 * Table primitives: table_sort, table_filter, table_select, top_k, groupby, join.
 * Each takes a table (array of objects) and returns one; fields are dotted paths.
 * @module
 */
import * as v from 'valibot'
import { dictOf } from '../model/dict.ts'
import { record, strictObject } from '../model/schema.ts'
import { evaluateExpression, expressionSyntaxError } from '../expr/expression.ts'
import { compareValues, deadline, field, MAX_ROWS, requireField, rowsOf, type Row } from './rows.ts'
import type { StepContext, StepDefinition } from './step.ts'

const Field = v.pipe(v.string(), v.minLength(1), v.maxLength(256))
const Order = v.picklist(['asc', 'desc'])
const SortKey = v.union([Field, strictObject({ field: Field, order: v.optional(Order) })])

const table_sort: StepDefinition = {
  schema: strictObject({
    op: v.literal('table_sort'),
    by: v.union([SortKey, v.pipe(v.array(SortKey), v.minLength(1), v.maxLength(16))]),
    order: v.optional(Order),
    nulls: v.optional(v.picklist(['first', 'last'])),
  }),
  async run(step, value) {
    const rows = rowsOf(value, 'table_sort')
    const keys = (Array.isArray(step.by) ? step.by : [step.by]).map((k) =>
      typeof k === 'string'
        ? { field: k, order: (step.order as string) ?? 'asc' }
        : { order: 'asc', ...(k as object) }
    ) as { field: string; order: string }[]
    for (const k of keys) requireField(rows, k.field, 'table_sort')
    const nullsFirst = step.nulls === 'first'
    return [...rows].sort((a, b) => {
      for (const k of keys) {
        const x = field(a, k.field)
        const y = field(b, k.field)
        const xn = x === null || x === undefined
        const yn = y === null || y === undefined
        if (xn || yn) {
          if (xn && yn) continue
          return (xn ? -1 : 1) * (nullsFirst ? 1 : -1)
        }
        const c = compareValues(x, y)
        if (c !== 0) return k.order === 'desc' ? -c : c
      }
      return 0
    })
  },
}

const Condition = strictObject({
  field: Field,
  op: v.picklist(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'exists']),
  value: v.optional(v.unknown()),
})
type ConditionT = v.InferOutput<typeof Condition>

function holds(row: Row, c: ConditionT): boolean {
  const x = field(row, c.field)
  switch (c.op) {
    case 'eq':
      return JSON.stringify(x) === JSON.stringify(c.value)
    case 'ne':
      return JSON.stringify(x) !== JSON.stringify(c.value)
    case 'gt':
      return x !== null && x !== undefined && compareValues(x, c.value) > 0
    case 'gte':
      return x !== null && x !== undefined && compareValues(x, c.value) >= 0
    case 'lt':
      return x !== null && x !== undefined && compareValues(x, c.value) < 0
    case 'lte':
      return x !== null && x !== undefined && compareValues(x, c.value) <= 0
    case 'in':
      return Array.isArray(c.value) && c.value.some((v) => JSON.stringify(v) === JSON.stringify(x))
    case 'nin':
      return Array.isArray(c.value) && !c.value.some((v) => JSON.stringify(v) === JSON.stringify(x))
    case 'contains':
      return typeof x === 'string'
        ? x.includes(String(c.value))
        : Array.isArray(x) && x.some((v) => JSON.stringify(v) === JSON.stringify(c.value))
    case 'exists':
      return (x !== undefined) === (c.value !== false)
  }
}

const table_filter: StepDefinition = {
  schema: strictObject({
    op: v.literal('table_filter'),
    where: v.optional(v.pipe(v.array(Condition), v.minLength(1), v.maxLength(32))),
    expr: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096))),
  }),
  check(step) {
    if ((step.where === undefined) === (step.expr === undefined))
      return [
        {
          path: '',
          message:
            'table_filter needs exactly one of "where" (conditions) or "expr" (a JSONata predicate)',
        },
      ]
    const err = typeof step.expr === 'string' ? expressionSyntaxError(step.expr) : null
    return err ? [{ path: '/expr', message: err }] : []
  },
  async run(step, value, ctx) {
    const rows = rowsOf(value, 'table_filter')
    const tick = deadline(ctx.signal)
    if (step.where) {
      const conditions = step.where as ConditionT[]
      return rows.filter((r) => (tick(), conditions.every((c) => holds(r, c))))
    }
    const out: Row[] = []
    for (const r of rows) {
      tick()
      if (truthy(await evaluateExpression(String(step.expr), r, bindings(ctx)))) out.push(r)
    }
    return out
  },
}

const table_select: StepDefinition = {
  schema: strictObject({
    op: v.literal('table_select'),
    fields: v.union([
      v.pipe(v.array(Field), v.minLength(1), v.maxLength(256)),
      record(Field, Field),
    ]),
  }),
  async run(step, value) {
    const rows = rowsOf(value, 'table_select')
    const pairs: [string, string][] = Array.isArray(step.fields)
      ? (step.fields as string[]).map((f) => [f, f])
      : Object.entries(step.fields as Record<string, string>)
    for (const [, path] of pairs) requireField(rows, path, 'table_select')
    return rows.map((r) =>
      Object.fromEntries(pairs.map(([name, path]) => [name, field(r, path) ?? null]))
    )
  },
}

const top_k: StepDefinition = {
  schema: strictObject({
    op: v.literal('top_k'),
    k: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_ROWS)),
    by: v.optional(Field),
    order: v.optional(Order),
  }),
  async run(step, value, ctx) {
    const rows = rowsOf(value, 'top_k')
    const k = Number(step.k)
    if (step.by === undefined) return rows.slice(0, k)
    const sorted = (await table_sort.run(
      { op: 'table_sort', by: { field: step.by, order: step.order ?? 'desc' } },
      rows,
      ctx
    )) as Row[]
    return sorted.slice(0, k)
  },
}

const Aggregate = strictObject({
  op: v.picklist(['count', 'sum', 'avg', 'min', 'max']),
  field: v.optional(Field),
})

const groupby: StepDefinition = {
  schema: strictObject({
    op: v.literal('groupby'),
    by: v.union([Field, v.pipe(v.array(Field), v.minLength(1), v.maxLength(16))]),
    aggregates: record(Field, Aggregate),
  }),
  check(step) {
    const aggs = (step.aggregates ?? {}) as Record<string, { op: string; field?: string }>
    return Object.entries(aggs)
      .filter(([, a]) => a.op !== 'count' && !a.field)
      .map(([name, a]) => ({ path: `/aggregates/${name}/field`, message: `${a.op} needs a field` }))
  },
  async run(step, value, ctx) {
    const rows = rowsOf(value, 'groupby')
    const by = Array.isArray(step.by) ? (step.by as string[]) : [String(step.by)]
    for (const f of by) requireField(rows, f, 'groupby')
    const aggs = Object.entries(step.aggregates as Record<string, { op: string; field?: string }>)
    for (const [, a] of aggs) if (a.field) requireField(rows, a.field, 'groupby')
    const tick = deadline(ctx.signal)
    const groups = new Map<string, { keys: Row; rows: { row: Row; index: number }[] }>()
    rows.forEach((row, index) => {
      tick()
      const keys = Object.fromEntries(by.map((f) => [f, field(row, f) ?? null]))
      const id = JSON.stringify(by.map((f) => keys[f]))
      let g = groups.get(id)
      if (!g) groups.set(id, (g = { keys, rows: [] }))
      g.rows.push({ row, index })
    })
    return [...groups.values()].map((g) => {
      const out: Row = dictOf(g.keys)
      for (const [name, a] of aggs) out[name] = aggregate(a.op, a.field, g.rows)
      return out
    })
  },
}

function aggregate(
  op: string,
  path: string | undefined,
  rows: { row: Row; index: number }[]
): unknown {
  if (op === 'count')
    return path
      ? rows.filter((r) => field(r.row, path) !== undefined && field(r.row, path) !== null).length
      : rows.length
  const values = rows
    .map((r) => ({ value: field(r.row, path as string), index: r.index }))
    .filter((x) => x.value !== null && x.value !== undefined)
  if (op === 'min' || op === 'max') {
    if (values.length === 0) return null
    return values.reduce(
      (best, x) =>
        (op === 'min' ? compareValues(x.value, best) < 0 : compareValues(x.value, best) > 0)
          ? x.value
          : best,
      values[0].value
    )
  }
  for (const x of values) {
    if (typeof x.value !== 'number' || !Number.isFinite(x.value))
      throw new Error(
        `${op} of "${path}": row ${x.index} has ${JSON.stringify(x.value)}, not a number`
      )
  }
  const sum = values.reduce((s, x) => s + (x.value as number), 0)
  return op === 'sum' ? sum : values.length ? sum / values.length : null
}

const JoinOn = v.union([Field, strictObject({ left: Field, right: Field })])

const join: StepDefinition = {
  schema: strictObject({
    op: v.literal('join'),
    with: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    on: JoinOn,
    how: v.optional(v.picklist(['inner', 'left'])),
    prefix: v.optional(v.pipe(v.string(), v.maxLength(64))),
  }),
  check(step) {
    const err = expressionSyntaxError(String(step.with))
    return err ? [{ path: '/with', message: err }] : []
  },
  async run(step, value, ctx) {
    const left = rowsOf(value, 'join (left table)')
    const right = rowsOf(
      await evaluateExpression(String(step.with), value, bindings(ctx)),
      'join (the "with" table)'
    )
    const on =
      typeof step.on === 'string'
        ? { left: step.on, right: step.on }
        : (step.on as { left: string; right: string })
    requireField(left, on.left, 'join (left table)')
    requireField(right, on.right, 'join (the "with" table)')
    const prefix = (step.prefix as string | undefined) ?? 'right_'
    const index = new Map<string, Row[]>()
    for (const r of right) {
      const k = JSON.stringify(field(r, on.right) ?? null)
      const list = index.get(k)
      if (list) list.push(r)
      else index.set(k, [r])
    }
    const tick = deadline(ctx.signal)
    const out: Row[] = []
    for (const l of left) {
      tick()
      const matches = index.get(JSON.stringify(field(l, on.left) ?? null)) ?? []
      if (matches.length === 0 && step.how === 'left') out.push(dictOf(l))
      for (const r of matches) {
        const merged: Row = dictOf(l)
        for (const [k, v] of Object.entries(r))
          merged[Object.hasOwn(l, k) && k !== on.right ? `${prefix}${k}` : k] = v
        out.push(merged)
      }
      if (out.length > MAX_ROWS)
        throw new Error(`join produced more than ${MAX_ROWS} rows (many-to-many keys?)`)
    }
    return out
  },
}

export function bindings(ctx: StepContext): Record<string, unknown> {
  return { input: ctx.input, nodes: ctx.nodes, run: ctx.run }
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v)
}

export const TABLE_STEPS: Record<string, StepDefinition> = {
  table_sort,
  table_filter,
  table_select,
  top_k,
  groupby,
  join,
}

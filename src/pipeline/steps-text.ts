/**
 * Text primitives: regex_extract (RE2 semantics through re2js: linear time, no backtracking, so
 * a user's or a model's pattern cannot stall a worker) and parse_date (luxon: formats and IANA
 * time zones). Each works on a string, an array of strings, or a table with `field`.
 * @module
 */
import type { DateTime } from 'luxon'
import type { RE2JS } from 're2js'
import { libs } from '../libs.ts'
import * as v from 'valibot'
import { dictOf } from '../model/dict.ts'
import { strictObject } from '../model/schema.ts'
import { deadline, describe, field, rowsOf, type Row } from './rows.ts'
import type { StepDefinition } from './step.ts'

const Field = v.pipe(v.string(), v.minLength(1), v.maxLength(256))
const MAX_MATCHES = 10_000

function compileRegex(pattern: string, flags = ''): RE2JS {
  const { RE2JS } = libs()
  let bits = 0
  for (const f of flags) {
    if (f === 'i') bits |= RE2JS.CASE_INSENSITIVE
    else if (f === 'm') bits |= RE2JS.MULTILINE
    else if (f === 's') bits |= RE2JS.DOTALL
    else throw new Error(`unknown regex flag "${f}" (use i, m, s)`)
  }
  return RE2JS.compile(pattern, bits)
}

/** Applies `fn` to a string, to each string of an array, or to `field` of each row (into `into`). */
async function mapText(
  step: Record<string, unknown>,
  value: unknown,
  op: string,
  fn: (s: unknown, where: string) => unknown,
  signal?: AbortSignal
): Promise<unknown> {
  const tick = deadline(signal)
  if (step.field === undefined) {
    if (Array.isArray(value)) return value.map((s, i) => (tick(), fn(s, `item ${i}`)))
    return fn(value, 'the value')
  }
  const path = String(step.field)
  const into = String(step.into ?? step.field)
  return rowsOf(value, op).map((row, i) => {
    tick()
    const out: Row = dictOf(row)
    out[into] = fn(field(row, path), `row ${i} field "${path}"`)
    return out
  })
}

const regex_extract: StepDefinition = {
  schema: strictObject({
    op: v.literal('regex_extract'),
    pattern: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
    flags: v.optional(v.pipe(v.string(), v.regex(/^[ims]*$/, 'flags are some of i, m, s'))),
    all: v.optional(v.boolean()),
    field: v.optional(Field),
    into: v.optional(Field),
  }),
  check(step) {
    libs() // outside the try: the libraries not being loaded is not the pattern's fault
    try {
      compileRegex(String(step.pattern), (step.flags as string) ?? '')
      return []
    } catch (e) {
      return [
        {
          path: '/pattern',
          message: `${(e as Error).message} (RE2 syntax: no backreferences or lookaround)`,
        },
      ]
    }
  },
  async run(step, value, ctx) {
    const re = compileRegex(String(step.pattern), (step.flags as string) ?? '')
    const names = Object.entries(re.namedGroups())
    const one = (m: ReturnType<RE2JS['matcher']>) => {
      if (names.length) return Object.fromEntries(names.map(([n, i]) => [n, m.group(i)]))
      if (m.groupCount() === 0) return m.group(0)
      if (m.groupCount() === 1) return m.group(1)
      return Array.from({ length: m.groupCount() }, (_, i) => m.group(i + 1))
    }
    return mapText(
      step,
      value,
      'regex_extract',
      (s, where) => {
        if (s === null || s === undefined) return null
        if (typeof s !== 'string')
          throw new Error(`regex_extract: ${where} is ${describe(s)}, not a string`)
        const m = re.matcher(s)
        if (!step.all) return m.find() ? one(m) : null
        const out: unknown[] = []
        while (m.find()) {
          out.push(one(m))
          if (out.length > MAX_MATCHES)
            throw new Error(`regex_extract: more than ${MAX_MATCHES} matches in ${where}`)
        }
        return out
      },
      ctx.signal
    )
  },
}

const parse_date: StepDefinition = {
  schema: strictObject({
    op: v.literal('parse_date'),
    formats: v.optional(
      v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(100))), v.maxLength(20))
    ),
    zone: v.optional(v.pipe(v.string(), v.maxLength(64))),
    output: v.optional(v.picklist(['iso', 'epoch_ms', 'date'])),
    field: v.optional(Field),
    into: v.optional(Field),
  }),
  check(step) {
    return step.zone !== undefined && !libs().IANAZone.isValidZone(String(step.zone))
      ? [
          {
            path: '/zone',
            message: `unknown time zone "${step.zone}" (use an IANA name such as Europe/Paris)`,
          },
        ]
      : []
  },
  async run(step, value, ctx) {
    const zone = (step.zone as string | undefined) ?? 'UTC'
    const formats = (step.formats as string[] | undefined) ?? []
    const output = (step.output as string | undefined) ?? 'iso'
    return mapText(
      step,
      value,
      'parse_date',
      (s, where) => {
        if (s === null || s === undefined) return null
        const dt = parseOne(s, formats, zone)
        if (!dt)
          throw new Error(
            `parse_date: ${where} (${JSON.stringify(s).slice(0, 80)}) matches none of ${formats.length ? formats.map((f) => `"${f}"`).join(', ') : 'ISO 8601, RFC 2822, HTTP, SQL or epoch milliseconds'}`
          )
        if (output === 'epoch_ms') return dt.toMillis()
        if (output === 'date') return dt.toISODate()
        return dt.toUTC().toISO()
      },
      ctx.signal
    )
  },
}

function parseOne(s: unknown, formats: string[], zone: string): DateTime | null {
  const { DateTime } = libs()
  if (typeof s === 'number') {
    const dt = DateTime.fromMillis(s, { zone })
    return dt.isValid ? dt : null
  }
  if (typeof s !== 'string') return null
  const opts = { zone, setZone: true }
  const candidates = formats.length
    ? formats.map((f) => DateTime.fromFormat(s, f, opts))
    : [
        DateTime.fromISO(s, opts),
        DateTime.fromRFC2822(s, opts),
        DateTime.fromHTTP(s, opts),
        DateTime.fromSQL(s, opts),
      ]
  return candidates.find((d) => d.isValid) ?? null
}

export const TEXT_STEPS: Record<string, StepDefinition> = { regex_extract, parse_date }

import { describe, expect, test } from 'bun:test'
import { Glob } from 'bun'
import * as v from 'valibot'
import { record, strictObject, variant } from '../../src/model/schema.ts'
import { validateWorkflow } from '../../src/model/validate.ts'
import { jsonProblem } from '../../src/model/json-bounds.ts'

describe('object schemas', () => {
  test('no object schema of valibot is used outside src/model/schema.ts (they accept arrays)', async () => {
    const offenders: string[] = []
    for (const dir of ['src', 'cli', 'workers']) {
      for await (const file of new Glob(`${dir}/**/*.ts`).scan('.')) {
        if (file === 'src/model/schema.ts') continue
        const lines = (await Bun.file(file).text()).split('\n')
        lines.forEach((line, i) => {
          const direct = /\bv\.(strictObject|object|looseObject|objectWithRest|record|variant)\(/
          if (direct.test(line)) offenders.push(`${file}:${i + 1}`)
        })
      }
    }
    expect(offenders).toEqual([])
  })
  test('objects, records and variants refuse arrays', () => {
    expect(v.safeParse(strictObject({ a: v.optional(v.number()) }), []).success).toBe(false)
    expect(v.safeParse(strictObject({ a: v.optional(v.number()) }), {}).success).toBe(true)
    expect(v.safeParse(record(v.string(), v.number()), []).success).toBe(false)
    expect(v.safeParse(variant('k', [v.strictObject({ k: v.literal('x') })]), []).success).toBe(
      false
    )
  })
  test('records refuse reserved keys instead of dropping them', () => {
    const res = v.safeParse(
      record(v.string(), v.string()),
      JSON.parse('{"__proto__": "x", "a": "b"}')
    )
    expect(res.success).toBe(false)
  })
  test('a node config that is an array, or holds __proto__, is invalid', () => {
    const doc = (config: unknown) => ({ name: 'x', nodes: [{ id: 'a', type: 'noop', config }] })
    expect(validateWorkflow(doc([])).errors[0].path).toBe('/nodes/0/config')
    expect(
      validateWorkflow(
        JSON.parse(
          '{"name":"x","nodes":[{"id":"a","type":"noop","config":{"__proto__":{"output":1}}}]}'
        )
      ).valid
    ).toBe(false)
    expect(
      validateWorkflow(JSON.parse('{"name":"x","__proto__":{},"nodes":[{"id":"a","type":"noop"}]}'))
        .errors[0].message
    ).toContain('unknown field')
  })
})

describe('JSON bounds', () => {
  const nest = (n: number) => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n))
  test('depth is measured without recursion, on any depth', () => {
    expect(jsonProblem(nest(64), 64)).toBeNull()
    expect(jsonProblem(nest(65), 64)?.message).toContain('nested deeper than 64 levels')
    expect(jsonProblem(nest(300_000), 64)?.path).toBe('/a'.repeat(64))
    expect(jsonProblem(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), 64)?.path).toBe(
      '/0'.repeat(64)
    )
  })
  test('strings no store can keep are named by their path', () => {
    expect(jsonProblem({ a: ['ok', 'x\u0000y'] }, 64)).toEqual({
      path: '/a/1',
      message: 'string contains a NUL character (\\u0000) (at /a/1)',
    })
    expect(jsonProblem({ ['k\u0000']: 1 }, 64)?.message).toContain('key contains a NUL')
    expect(jsonProblem(JSON.parse('{"s":"\\ud800"}'), 64)?.message).toContain(
      'lone UTF-16 surrogate'
    )
    expect(jsonProblem({ emoji: '🙂', text: 'ünïcödé' }, 64)).toBeNull()
  })
  test('a deep document is an invalid workflow naming the path, not a crash', () => {
    const doc = { name: 'x', nodes: [{ id: 'a', type: 'noop', config: { output: nest(30_000) } }] }
    const res = validateWorkflow(doc)
    expect(res.valid).toBe(false)
    expect(res.errors[0].path.startsWith('/nodes/0/config/output/a/a')).toBe(true)
  })
})

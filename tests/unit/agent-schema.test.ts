/** JSON Schema checks of model output and tool schemas (src/agent/json-schema.ts). */
import { expect, test } from 'bun:test'
import { MAX_SCHEMA_BYTES, schemaErrors, schemaProblems } from '../../src/agent/json-schema.ts'
import { TOOLS, TOOL_NAMES } from '../../src/agent/tools.ts'

test('a catastrophic pattern from a schema runs in linear time (RE2JS), and still matches correctly', () => {
  // With a backtracking engine the first check would never return (the test would time out).
  const schema = { type: 'string', pattern: '^(a+)+$' }
  expect(schemaErrors(schema, `${'a'.repeat(100_000)}!`)).toHaveLength(1)
  expect(schemaErrors(schema, 'a'.repeat(100_000))).toEqual([])
})

test('each pattern is its own: many patterns in one process never mix', () => {
  const patterns = ['^[0-9]+$', '^[a-z]+$', '^x{2,3}$', '^(a|b)*c$']
  const samples = ['123', 'abc', 'xx', 'xxx', 'ababc', 'c', '12a', 'x', 'abca']
  for (let round = 0; round < 2; round++)
    for (const pattern of patterns)
      for (const s of samples)
        expect({
          pattern,
          s,
          ok: schemaErrors({ type: 'string', pattern }, s).length === 0,
        }).toEqual({
          pattern,
          s,
          ok: new RegExp(pattern).test(s),
        })
})

test('errors name the JSON pointer of what is wrong', () => {
  const schema = {
    type: 'object',
    properties: { items: { type: 'array', items: { type: 'integer' } } },
    required: ['items'],
  }
  expect(schemaErrors(schema, { items: [1, 'x'] })).toEqual([
    { path: '/items/1', message: 'must be integer' },
  ])
  expect(schemaErrors(schema, {})[0].message).toContain("required property 'items'")
})

test('bad schemas are refused before use: not an object, invalid, too deep, too big', () => {
  expect(schemaProblems([])).toHaveLength(1)
  expect(schemaProblems({ type: 'nope' })[0].message).toContain('not a valid JSON Schema')
  let deep: Record<string, unknown> = { type: 'string' }
  for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { a: deep } }
  expect(schemaProblems(deep)).toHaveLength(1)
  const big = { type: 'object', description: 'x'.repeat(MAX_SCHEMA_BYTES) }
  expect(schemaProblems(big)[0].message).toContain('bytes')
  // No remote references are fetched: an unknown $ref is an invalid schema, not a request.
  expect(schemaProblems({ $ref: 'https://evil.example/s.json' })).toHaveLength(1)
})

test("every tool's argument schema is a valid schema", () => {
  for (const name of TOOL_NAMES) expect(schemaProblems(TOOLS[name].parameters)).toEqual([])
})

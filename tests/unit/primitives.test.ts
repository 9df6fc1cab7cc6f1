import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { runPipeline, pipelineErrors } from '../../src/pipeline/pipeline.ts'
import { expressionSyntaxError } from '../../src/expr/expression.ts'
import { harness } from '../net/guard-harness.ts'

const orders = [
  {
    id: 1,
    customer: 'acme',
    region: 'eu',
    total: 120.5,
    status: 'paid',
    placed: '2026-03-01T10:00:00Z',
    email: 'Ops@Acme.com',
  },
  {
    id: 2,
    customer: 'globex',
    region: 'us',
    total: 80,
    status: 'paid',
    placed: '2026-03-02T09:30:00Z',
    email: 'billing@globex.io',
  },
  {
    id: 3,
    customer: 'acme',
    region: 'eu',
    total: 42,
    status: 'refunded',
    placed: '2026-03-05T16:45:00Z',
    email: 'ops@acme.com',
  },
  {
    id: 4,
    customer: 'initech',
    region: 'us',
    total: null,
    status: 'pending',
    placed: '2026-03-07T08:00:00Z',
    email: 'peter@initech.com',
  },
  {
    id: 5,
    customer: 'globex',
    region: 'us',
    total: 310,
    status: 'paid',
    placed: '2026-03-09T12:15:00Z',
    email: 'billing@globex.io',
  },
]
const customers = [
  { customer: 'acme', tier: 'gold', country: 'DE' },
  { customer: 'globex', tier: 'silver', country: 'US' },
]
const ctx = {
  input: { min: 50 },
  nodes: { crm: { output: customers, status: 'succeeded' } },
  run: { id: 'run_x' },
}
const run = (steps: Record<string, unknown>[], value: unknown = orders) =>
  runPipeline(steps, value, ctx)
const fails = async (steps: Record<string, unknown>[], value: unknown = orders) => {
  try {
    await run(steps, value)
  } catch (e) {
    return (e as Error).message
  }
  throw new Error('expected the pipeline to fail')
}

describe('table_sort', () => {
  test('by several keys, nulls last by default or first on request', async () => {
    const out = (await run([
      { op: 'table_sort', by: ['region', { field: 'total', order: 'desc' }] },
    ])) as any[]
    expect(out.map((o) => o.id)).toEqual([1, 3, 5, 2, 4])
    const nullsFirst = (await run([{ op: 'table_sort', by: 'total', nulls: 'first' }])) as any[]
    expect(nullsFirst.map((o) => o.id)).toEqual([4, 3, 2, 1, 5])
  })
  test('bad input: not a table, a misspelt key', async () => {
    expect(await fails([{ op: 'table_sort', by: 'total' }], 'text')).toBe(
      'pipeline step 0 (table_sort) failed: table_sort needs a table (an array of objects), got a string'
    )
    expect(await fails([{ op: 'table_sort', by: 'totl' }])).toContain('no row has the field "totl"')
    expect(await fails([{ op: 'table_sort', by: 'id' }], [{ id: 1 }, 7])).toContain(
      'row 1 is a number, not an object'
    )
  })
})

describe('table_filter, table_select, top_k', () => {
  test('conditions and JSONata predicates (with $input bound)', async () => {
    const paidEu = (await run([
      {
        op: 'table_filter',
        where: [
          { field: 'status', op: 'eq', value: 'paid' },
          { field: 'region', op: 'in', value: ['eu'] },
        ],
      },
    ])) as any[]
    expect(paidEu.map((o) => o.id)).toEqual([1])
    const big = (await run([
      { op: 'table_filter', expr: "$type(total) = 'number' and total > $input.min" },
    ])) as any[]
    expect(big.map((o) => o.id)).toEqual([1, 2, 5])
    const hasTotal = (await run([
      { op: 'table_filter', where: [{ field: 'total', op: 'gte', value: 0 }] },
    ])) as any[]
    expect(hasTotal).toHaveLength(4)
  })
  test('select renames and projects; top_k takes the largest', async () => {
    const out = await run([
      { op: 'top_k', k: 2, by: 'total' },
      { op: 'table_select', fields: { who: 'customer', amount: 'total' } },
    ])
    expect(out).toEqual([
      { who: 'globex', amount: 310 },
      { who: 'acme', amount: 120.5 },
    ])
    expect(
      await run([
        { op: 'top_k', k: 1 },
        { op: 'table_select', fields: ['id'] },
      ])
    ).toEqual([{ id: 1 }])
  })
  test('validation: filter needs exactly one of where/expr; bad operators are named', () => {
    expect(pipelineErrors([{ op: 'table_filter' }], '/p')[0].message).toContain('exactly one of')
    expect(
      pipelineErrors(
        [{ op: 'table_filter', where: [{ field: 'a', op: 'like', value: 1 }] }],
        '/p'
      )[0].path
    ).toBe('/p/0/where/0/op')
    expect(pipelineErrors([{ op: 'top_k', k: 0 }], '/p')[0].path).toBe('/p/0/k')
  })
})

describe('groupby', () => {
  test('count, sum, avg, min, max per group (nulls skipped)', async () => {
    const out = await run([
      {
        op: 'groupby',
        by: 'customer',
        aggregates: {
          n: { op: 'count' },
          revenue: { op: 'sum', field: 'total' },
          avg: { op: 'avg', field: 'total' },
          first: { op: 'min', field: 'placed' },
          largest: { op: 'max', field: 'total' },
        },
      },
    ])
    expect(out).toEqual([
      {
        customer: 'acme',
        n: 2,
        revenue: 162.5,
        avg: 81.25,
        first: '2026-03-01T10:00:00Z',
        largest: 120.5,
      },
      {
        customer: 'globex',
        n: 2,
        revenue: 390,
        avg: 195,
        first: '2026-03-02T09:30:00Z',
        largest: 310,
      },
      {
        customer: 'initech',
        n: 1,
        revenue: 0,
        avg: null,
        first: '2026-03-07T08:00:00Z',
        largest: null,
      },
    ])
  })
  test('bad input: summing text names the row; aggregates need a field', async () => {
    expect(
      await fails([
        { op: 'groupby', by: 'region', aggregates: { s: { op: 'sum', field: 'status' } } },
      ])
    ).toContain('sum of "status": row 0 has "paid", not a number')
    expect(
      pipelineErrors([{ op: 'groupby', by: 'x', aggregates: { s: { op: 'sum' } } }], '/p')[0]
    ).toEqual({ path: '/p/0/aggregates/s/field', message: 'sum needs a field' })
  })
})

describe('join', () => {
  test('inner and left joins on a key from another node', async () => {
    const inner = (await run([{ op: 'join', with: '$nodes.crm.output', on: 'customer' }])) as any[]
    expect(inner.map((r) => [r.id, r.tier])).toEqual([
      [1, 'gold'],
      [2, 'silver'],
      [3, 'gold'],
      [5, 'silver'],
    ])
    const left = (await run([
      {
        op: 'join',
        with: '$nodes.crm.output',
        on: { left: 'customer', right: 'customer' },
        how: 'left',
      },
    ])) as any[]
    expect(left).toHaveLength(5)
    expect(left.find((r) => r.id === 4).tier).toBeUndefined()
  })
  test('bad input: the other side is not a table; many-to-many blow-up is bounded', async () => {
    expect(await fails([{ op: 'join', with: '$input', on: 'customer' }])).toContain(
      'join (the "with" table) needs a table'
    )
    const many = Array.from({ length: 400 }, () => ({ k: 1 }))
    expect(await fails([{ op: 'join', with: '$', on: 'k' }], many)).toContain(
      'more than 100000 rows'
    )
  })
})

describe('regex_extract (RE2: linear time)', () => {
  test('named groups from a field, all matches from a string', async () => {
    const out = (await run([
      {
        op: 'regex_extract',
        field: 'email',
        into: 'domain',
        pattern: '@(?P<host>[a-z.]+)',
        flags: 'i',
      },
      { op: 'table_select', fields: ['domain'] },
    ])) as any[]
    expect(out.map((r) => r.domain.host)).toEqual([
      'Acme.com',
      'globex.io',
      'acme.com',
      'initech.com',
      'globex.io',
    ])
    expect(
      await run([{ op: 'regex_extract', pattern: '\\d+', all: true }], 'orders 12, 7 and 300')
    ).toEqual(['12', '7', '300'])
  })
  test('a catastrophic pattern stays fast; backreferences are refused at validation', async () => {
    const started = performance.now()
    expect(
      await run([{ op: 'regex_extract', pattern: '(a+)+$' }], `${'a'.repeat(30_000)}b`)
    ).toBeNull()
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(pipelineErrors([{ op: 'regex_extract', pattern: '(a)\\1' }], '/p')[0].path).toBe(
      '/p/0/pattern'
    )
    expect(await fails([{ op: 'regex_extract', field: 'total', pattern: '\\d' }])).toContain(
      'row 0 field "total" is a number, not a string'
    )
  })
  test('JSONata regex literals are refused (they would backtrack)', () => {
    expect(expressionSyntaxError('$match(a, /(a+)+$/)')).toContain('use the regex_extract step')
  })
})

describe('parse_date', () => {
  test('formats and time zones', async () => {
    const out = await run(
      [{ op: 'parse_date', formats: ['dd/MM/yyyy HH:mm'], zone: 'Europe/Paris' }],
      ['24/11/2026 09:30', '01/07/2026 12:00']
    )
    expect(out).toEqual(['2026-11-24T08:30:00.000Z', '2026-07-01T10:00:00.000Z'])
    const rows = (await run([
      { op: 'parse_date', field: 'placed', into: 'day', output: 'date' },
    ])) as any[]
    expect(rows.map((r) => r.day)).toEqual([
      '2026-03-01',
      '2026-03-02',
      '2026-03-05',
      '2026-03-07',
      '2026-03-09',
    ])
    expect(
      await run([{ op: 'parse_date', output: 'epoch_ms' }], 'Tue, 24 Nov 2026 05:00:00 GMT')
    ).toBe(Date.UTC(2026, 10, 24, 5))
  })
  test('bad input: unparseable dates name the row; unknown zones are validation errors', async () => {
    expect(await fails([{ op: 'parse_date', field: 'status' }])).toContain(
      'row 0 field "status" ("paid") matches none of'
    )
    expect(pipelineErrors([{ op: 'parse_date', zone: 'Mars/Olympus' }], '/p')[0]).toEqual({
      path: '/p/0/zone',
      message: 'unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Paris)',
    })
  })
})

describe('bounds', () => {
  test('tables over the row limit are refused', async () => {
    const huge = Array.from({ length: 100_001 }, (_, i) => ({ i }))
    expect(await fails([{ op: 'top_k', k: 1 }], huge)).toContain('over the limit of 100000')
  })
  test('a step producing too much output is refused, naming the step', async () => {
    const msg = await fails(
      [
        { op: 'top_k', k: 300 },
        { op: 'table_select', fields: ['blob'] },
      ],
      Array.from({ length: 300 }, () => ({ blob: 'x'.repeat(30_000) }))
    )
    expect(msg).toBe('pipeline step 0 (top_k) produced 9003601 bytes, over the limit of 8388608')
  })
})

describe('http_request (through the SSRF guard)', () => {
  let server: ReturnType<typeof Bun.serve>
  beforeAll(() => {
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === '/rates'
          ? Response.json([
              { currency: 'EUR', rate: 1.1 },
              { currency: 'GBP', rate: 1.3 },
            ])
          : new Response('missing', { status: 404 }),
    })
  })
  afterAll(() => server.stop(true))
  const guard = () =>
    harness({
      dns: { 'api.rates.example': ['93.184.216.34'] },
      respond: (t, init) =>
        fetch(`http://127.0.0.1:${server.port}${new URL(t.url).pathname}`, init),
    }).fetch

  test('fetches JSON and feeds it to the next step', async () => {
    const out = await runPipeline(
      [
        { op: 'http_request', url: 'https://api.rates.example/rates' },
        { op: 'top_k', k: 1, by: 'rate' },
      ],
      null,
      { ...ctx, fetch: guard() }
    )
    expect(out).toEqual([{ currency: 'GBP', rate: 1.3 }])
  })
  test('a blocked address and a 404 fail with clear errors', async () => {
    const blocked = await runPipeline(
      [{ op: 'http_request', url: 'http://169.254.169.254/x' }],
      null,
      { ...ctx, fetch: guard() }
    ).catch((e) => e.message)
    expect(blocked).toContain(
      'pipeline step 0 (http_request) failed: request blocked by the SSRF guard (address)'
    )
    const missing = await runPipeline(
      [{ op: 'http_request', url: 'https://api.rates.example/nope' }],
      null,
      { ...ctx, fetch: guard() }
    ).catch((e) => e.message)
    expect(missing).toContain('answered 404')
  })
})

import { describe, expect, test } from 'bun:test'
import { validateWorkflow } from '../../src/model/validate.ts'
import { DEFAULT_LIMITS } from '../../src/model/workflow.ts'

const base = () => ({
  name: 'ok',
  nodes: [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'sleep', config: { ms: 10 } },
  ],
  edges: [{ from: 'a', to: 'b' }],
})

function errorsOf(doc: unknown) {
  const r = validateWorkflow(doc)
  expect(r.valid).toBe(false)
  return r.errors
}

function expectError(doc: unknown, path: string, message: string | RegExp) {
  const errors = errorsOf(doc)
  const hit = errors.find(
    (e) =>
      e.path === path &&
      (typeof message === 'string' ? e.message.includes(message) : message.test(e.message))
  )
  if (!hit)
    throw new Error(
      `expected an error at ${path} matching ${message}; got ${JSON.stringify(errors)}`
    )
}

describe('workflow validator', () => {
  test('a valid document passes with no errors', () => {
    const r = validateWorkflow(base())
    expect(r).toMatchObject({ valid: true, errors: [], warnings: [] })
  })

  test('every example in examples/ is valid', async () => {
    const files = [...new Bun.Glob('*.json').scanSync('examples')].filter(
      (f) => !f.endsWith('.input.json')
    )
    expect(files.length).toBeGreaterThanOrEqual(6)
    for (const f of files) {
      const r = validateWorkflow(await Bun.file(`examples/${f}`).json())
      expect({ f, errors: r.errors }).toEqual({ f, errors: [] })
    }
  })

  test('non-objects are refused', () => {
    expectError([], '/', 'JSON object')
    expectError('x', '/', 'JSON object')
  })

  test('names: 1-64 of [a-z0-9._-]', () => {
    expectError({ ...base(), name: 'Bad Name' }, '/name', '[a-z0-9._-]')
    expectError({ ...base(), name: '' }, '/name', '[a-z0-9._-]')
    expectError({ ...base(), name: 'x'.repeat(65) }, '/name', '[a-z0-9._-]')
    expect(validateWorkflow({ ...base(), name: 'a.b_c-9' }).valid).toBe(true)
  })

  test('node ids: 1-64 of [A-Za-z0-9_-], unique', () => {
    const doc = base()
    doc.nodes[0].id = 'has space'
    expectError(doc, '/nodes/0/id', 'A-Za-z0-9_-')
    const dup = base()
    dup.nodes[1].id = 'a'
    dup.edges = []
    expectError(dup, '/nodes/1/id', 'duplicate node id "a"')
  })

  test('unknown fields are errors at the top level, in nodes, edges and configs', () => {
    expectError({ ...base(), extra: 1 }, '/extra', 'unknown field "extra"')
    const n = base() as any
    n.nodes[0].colour = 'red'
    expectError(n, '/nodes/0/colour', 'unknown field')
    const e = base() as any
    e.edges[0].weight = 2
    expectError(e, '/edges/0/weight', 'unknown field')
    const c = base() as any
    c.nodes[1].config.msec = 3
    expectError(c, '/nodes/1/config/msec', 'unknown field')
  })

  test('each type validates its config', () => {
    const doc = base() as any
    doc.nodes[1].config = { ms: -1 }
    expectError(doc, '/nodes/1/config/ms', /.+/)
    const http = {
      name: 'h',
      nodes: [{ id: 'h', type: 'http', config: { method: 'TRACE', url: 'https://x' } }],
    }
    expectError(http, '/nodes/0/config/method', /.+/)
    const tf = {
      name: 't',
      nodes: [{ id: 't', type: 'transform', config: { pipeline: [{ op: 'nope' }] } }],
    }
    expectError(tf, '/nodes/0/config/pipeline/0/op', 'unknown step op')
  })

  test('unknown node types are accepted with a warning', () => {
    const r = validateWorkflow({
      name: 'u',
      nodes: [{ id: 'x', type: 'teleport', config: { anything: 1 } }],
    })
    expect(r.valid).toBe(true)
    expect(r.warnings).toEqual([
      { path: '/nodes/0/type', message: expect.stringContaining('unknown node type "teleport"') },
    ])
  })

  test('dangling and duplicate edges', () => {
    expectError(
      { ...base(), edges: [{ from: 'a', to: 'zzz' }] },
      '/edges/0/to',
      'unknown node "zzz"'
    )
    expectError(
      { ...base(), edges: [{ from: 'qq', to: 'a' }] },
      '/edges/0/from',
      'unknown node "qq"'
    )
    expectError(
      {
        ...base(),
        edges: [
          { from: 'a', to: 'b' },
          { from: 'a', to: 'b', when: 'true' },
        ],
      },
      '/edges/1',
      'duplicate edge a->b'
    )
  })

  test('cycles need an edge with max_iterations', () => {
    const doc = {
      ...base(),
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    }
    expectError(doc, '/edges', /cycle a -> b -> a/)
    expectError({ ...base(), edges: [{ from: 'a', to: 'a' }] }, '/edges', /cycle a -> a/)
    const bounded = {
      ...base(),
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a', max_iterations: 3 },
      ],
    }
    expect(validateWorkflow(bounded).valid).toBe(true)
  })

  test('max_iterations is bounded 1-1000 and warns when it closes no cycle', () => {
    expectError(
      { ...base(), edges: [{ from: 'b', to: 'a', max_iterations: 0 }] },
      '/edges/0/max_iterations',
      /.+/
    )
    expectError(
      { ...base(), edges: [{ from: 'b', to: 'a', max_iterations: 1001 }] },
      '/edges/0/max_iterations',
      /.+/
    )
    const r = validateWorkflow({ ...base(), edges: [{ from: 'a', to: 'b', max_iterations: 2 }] })
    expect(r.warnings[0].message).toContain('closes no cycle')
  })

  test('on: approve/reject need a hitl source; on: error works from any node', () => {
    expectError(
      { ...base(), edges: [{ from: 'a', to: 'b', on: 'approve' }] },
      '/edges/0/on',
      'needs a hitl source'
    )
    expect(
      validateWorkflow({ ...base(), edges: [{ from: 'a', to: 'b', on: 'error' }] }).valid
    ).toBe(true)
    expectError({ ...base(), edges: [{ from: 'a', to: 'b', on: 'maybe' }] }, '/edges/0/on', /.+/)
  })

  test('JSONata syntax errors in when, templates and transform steps', () => {
    expectError(
      { ...base(), edges: [{ from: 'a', to: 'b', when: 'nodes.a.output >' }] },
      '/edges/0/when',
      /.+/
    )
    const t = base() as any
    t.nodes[0].config = { output: 'id {{ input.( }}' }
    expectError(t, '/nodes/0/config/output', /.+/)
    const empty = base() as any
    empty.nodes[0].config = { output: 'x {{ }}' }
    expectError(empty, '/nodes/0/config/output', 'empty template')
    const tf = {
      name: 't',
      nodes: [
        { id: 't', type: 'transform', config: { pipeline: [{ op: 'transform', expr: '$sum(' }] } },
      ],
    }
    expectError(tf, '/nodes/0/config/pipeline/0/expr', /.+/)
  })

  test('limits: nodes, edges, document size, agents per run', () => {
    const many = {
      name: 'm',
      nodes: Array.from({ length: DEFAULT_LIMITS.maxNodes + 1 }, (_, i) => ({
        id: `n${i}`,
        type: 'noop',
      })),
    }
    expectError(many, '/nodes', 'over the limit of 500')
    const nodes = Array.from({ length: 70 }, (_, i) => ({ id: `n${i}`, type: 'noop' }))
    const edges = []
    for (let i = 0; i < 70; i++)
      for (let j = i + 1; j < 70; j++) edges.push({ from: `n${i}`, to: `n${j}` })
    expectError({ name: 'e', nodes, edges }, '/edges', 'over the limit of 2000')
    const big = {
      name: 'b',
      nodes: [
        { id: 'a', type: 'noop', config: { output: 'x'.repeat(DEFAULT_LIMITS.maxDocumentBytes) } },
      ],
    }
    expectError(big, '/', 'over the limit')
    const agents = {
      name: 'ag',
      nodes: Array.from({ length: 6 }, (_, i) => ({
        id: `a${i}`,
        type: 'agent',
        config: { instructions: 'x' },
      })),
    }
    expectError(agents, '/nodes', 'agent nodes, over the limit of 5')
  })

  test('nodes need at least one entry; retry and timeout are bounded', () => {
    expectError({ name: 'x', nodes: [] }, '/nodes', 'at least one node')
    const r = base() as any
    r.nodes[0].retry = { max_attempts: 0 }
    expectError(r, '/nodes/0/retry/max_attempts', /.+/)
    const t = base() as any
    t.nodes[0].timeout_ms = 0
    expectError(t, '/nodes/0/timeout_ms', /.+/)
  })
})

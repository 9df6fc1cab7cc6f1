import { describe, expect, test } from 'bun:test'
import { canonicalJson, workflowId } from '../../src/model/canonical.ts'
import { compileWorkflow, descendants } from '../../src/model/ir.ts'
import { validateWorkflow } from '../../src/model/validate.ts'
import type { Workflow } from '../../src/model/workflow.ts'

describe('canonical JSON and workflow ids', () => {
  test('key order does not change the id; content does', () => {
    const a = { name: 'x', nodes: [{ id: 'a', type: 'noop' }] }
    const b = { nodes: [{ type: 'noop', id: 'a' }], name: 'x' }
    expect(canonicalJson(a)).toBe(canonicalJson(b))
    expect(workflowId(a)).toBe(workflowId(b))
    expect(workflowId(a)).toMatch(/^wf_[0-9a-f]{16}$/)
    expect(workflowId({ ...a, name: 'y' })).not.toBe(workflowId(a))
  })

  test('the id is the first 16 hex digits of the SHA-256 of the canonical JSON', () => {
    const doc = { b: 1, a: [2, { d: 3, c: 4 }] }
    expect(canonicalJson(doc)).toBe('{"a":[2,{"c":4,"d":3}],"b":1}')
    const hex = new Bun.CryptoHasher('sha256').update('{"a":[2,{"c":4,"d":3}],"b":1}').digest('hex')
    expect(workflowId(doc) as string).toBe(`wf_${hex.slice(0, 16)}`)
  })
})

describe('compiler', () => {
  const wf = validateWorkflow({
    name: 'c',
    nodes: [
      { id: 's', type: 'noop' },
      { id: 'a', type: 'noop' },
      { id: 'b', type: 'noop', join: 'any' },
      { id: 'j', type: 'noop', retry: { max_attempts: 3 } },
    ],
    edges: [
      { from: 's', to: 'a' },
      { from: 's', to: 'b' },
      { from: 'a', to: 'j' },
      { from: 'b', to: 'j' },
      { from: 'j', to: 's', max_iterations: 2 },
    ],
  }).workflow as Workflow
  const ir = compileWorkflow(wf)

  test('start nodes have no incoming non-loop edge', () => {
    expect(ir.starts).toEqual(['s'])
  })
  test('join arity counts non-loop incoming edges; loop edges are marked', () => {
    expect(ir.in.j.map((i) => ir.edges[i].key)).toEqual(['a->j', 'b->j'])
    expect(ir.in.s).toEqual([])
    expect(ir.edges.find((e) => e.key === 'j->s')?.loop).toBe(true)
    expect(ir.out.j.map((i) => ir.edges[i].key)).toEqual(['j->s'])
  })
  test('defaults: join all, retry once', () => {
    expect(ir.nodes.a.join).toBe('all')
    expect(ir.nodes.b.join).toBe('any')
    expect(ir.nodes.a.retry.max_attempts).toBe(1)
    expect(ir.nodes.j.retry).toEqual({ max_attempts: 3, backoff_ms: 1000, max_backoff_ms: 60000 })
  })
  test('descendants follow non-loop edges only', () => {
    expect([...descendants(ir, ['a'])].sort()).toEqual(['a', 'j'])
    expect([...descendants(ir, ['s'])].sort()).toEqual(['a', 'b', 'j', 's'])
  })
})

import { describe, expect, test } from 'bun:test'
import { evaluateExpression, expressionSyntaxError } from '../../src/expr/expression.ts'
import { TerminalError, toErrorData } from '../../src/errors.ts'
import { renderTemplates, templateErrors } from '../../src/expr/template.ts'
import { runPipeline, pipelineErrors } from '../../src/pipeline/pipeline.ts'

const ctx = {
  input: { name: 'ada', n: 3 },
  nodes: { a: { output: { items: [1, 2, 3] }, status: 'succeeded' } },
  run: { id: 'run_x', workflow_id: 'wf_y' },
}

describe('templates', () => {
  test('a string that is exactly one {{ expr }} yields the raw value', async () => {
    expect(await renderTemplates('{{ nodes.a.output.items }}', ctx)).toEqual([1, 2, 3])
    expect(await renderTemplates('  {{ input.n }} ', ctx)).toBe(3)
    expect(await renderTemplates('{{ input.missing }}', ctx)).toBeNull()
  })
  test('mixed strings get text; objects are JSON; missing values are empty', async () => {
    expect(await renderTemplates('hi {{ input.name }}, n={{ input.n }}', ctx)).toBe('hi ada, n=3')
    expect(await renderTemplates('x={{ nodes.a.output }}', ctx)).toBe('x={"items":[1,2,3]}')
    expect(await renderTemplates('[{{ input.none }}]', ctx)).toBe('[]')
    expect(await renderTemplates('{{ input.name }}{{ input.n }}', ctx)).toBe('ada3')
  })
  test('templates render deep inside objects and arrays, other values untouched', async () => {
    const out = await renderTemplates(
      { url: 'https://x/{{ input.name }}', list: [1, '{{ input.n * 2 }}'], flag: true },
      ctx
    )
    expect(out).toEqual({ url: 'https://x/ada', list: [1, 6], flag: true })
  })
  test('syntax errors are reported with their path', () => {
    expect(templateErrors({ a: { b: 'x {{ 1 + }}' } }, '/config')).toEqual([
      { path: '/config/a/b', message: expect.stringContaining('1 +') },
    ])
    expect(templateErrors({ a: 'no template' }, '/c')).toEqual([])
  })
  test('an evaluation error names the config path', async () => {
    expect(renderTemplates({ u: "{{ $error('nope') }}" }, ctx)).rejects.toThrow(
      'template at config/u: nope'
    )
  })
})

describe('expression bounds', () => {
  test('syntax errors are caught at compile time', () => {
    expect(expressionSyntaxError('a +')).not.toBeNull()
    expect(expressionSyntaxError('a + 1')).toBeNull()
  })
  test('runaway recursion is stopped by the depth bound', async () => {
    const expr = '($f := function($n) { 1 + $f($n + 1) }; $f(0))'
    expect(evaluateExpression(expr, {})).rejects.toThrow(/D1011/)
  })
  test('a long-running expression is stopped by the time bound', async () => {
    const expr = '$sum([1..5000000].($ * 2))'
    const started = Date.now()
    expect(
      evaluateExpression(
        expr,
        {},
        {},
        { timeoutMs: 50, maxDepth: 200, maxSequence: 100_000_000, maxResultBytes: 1e9 }
      )
    ).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(10_000)
  })
  test('an oversized result is refused', async () => {
    expect(
      evaluateExpression(
        '[1..200000]',
        {},
        {},
        { timeoutMs: 1000, maxDepth: 200, maxSequence: 1_000_000, maxResultBytes: 1000 }
      )
    ).rejects.toThrow('over the limit of 1000')
  })
  test('huge sequences are refused by the sequence bound', async () => {
    expect(evaluateExpression('[1..1000000].($ + 1)', {})).rejects.toThrow()
  })
})

describe('pipelines', () => {
  test('each step maps the value; $input, $nodes, $run are bound', async () => {
    const out = await runPipeline(
      [
        { op: 'transform', expr: '$.items' },
        {
          op: 'transform',
          expr: "{ 'total': $sum($), 'who': $input.name, 'first': $nodes.a.output.items[0], 'run': $run.id }",
        },
      ],
      { items: [4, 5] },
      { input: ctx.input, nodes: ctx.nodes, run: ctx.run }
    )
    expect(out).toEqual({ total: 9, who: 'ada', first: 1, run: 'run_x' })
  })
  test('a failing step is final at the source (TerminalError), with its cause', async () => {
    const err: any = await runPipeline([{ op: 'table_sort', by: 'x' }], 'not a table', {
      input: null,
      nodes: {},
      run: {},
    }).catch((e) => e)
    expect(err).toBeInstanceOf(TerminalError)
    expect(err.code).toBe('STEP_FAILED')
    expect(err.cause).toBeInstanceOf(Error)
    expect(toErrorData(err).retryable).toBe(false)
  })
  test('a failing step is named by its index', async () => {
    expect(
      runPipeline(
        [
          { op: 'transform', expr: '$' },
          { op: 'transform', expr: "$error('bad row')" },
        ],
        1,
        { input: null, nodes: {}, run: {} }
      )
    ).rejects.toThrow('pipeline step 1 (transform) failed: bad row')
  })
  test('steps are validated by their own schema', () => {
    expect(pipelineErrors([{ op: 'transform' }], '/p')[0].path).toBe('/p/0/expr')
    expect(pipelineErrors([{ op: 'transform', expr: 'x', extra: 1 }], '/p')[0].message).toContain(
      'unknown field'
    )
    expect(pipelineErrors([], '/p')[0].message).toContain('at least one step')
    expect(
      pipelineErrors(
        Array.from({ length: 101 }, () => ({ op: 'transform', expr: '$' })),
        '/p'
      )[0].message
    ).toContain('over the limit')
  })
})

import { afterAll, describe, expect, test } from 'bun:test'
import {
  closeExpressionSandbox,
  evaluateExpression,
  expressionSyntaxError,
  runsInline,
} from '../../src/expr/expression.ts'

/** Runs `fn` while measuring how long the event loop of this thread went without a turn. */
async function withLoopLag<T>(
  fn: () => Promise<T>
): Promise<{ value: T | Error; maxLagMs: number }> {
  let maxLagMs = 0
  let last = performance.now()
  const tick = setInterval(() => {
    const now = performance.now()
    maxLagMs = Math.max(maxLagMs, now - last)
    last = now
  }, 5)
  try {
    return { value: await fn().catch((e: Error) => e), maxLagMs }
  } finally {
    clearInterval(tick)
  }
}

afterAll(() => closeExpressionSandbox())

describe('expressions cannot stall the process', () => {
  const runaway = [
    "$count($distinct($map([1..25000], function($i){ {'k': $i} })))",
    '( $f := function($n){ $n <= 1 ? 1 : $f($n-1) + $f($n-2) }; $f(40) )',
    '$sort([1..60000], function($a, $b){ $a < $b })',
  ]
  for (const expr of runaway) {
    test(`stopped at its bound, the calling thread kept answering: ${expr.slice(0, 50)}`, async () => {
      const started = performance.now()
      const { value, maxLagMs } = await withLoopLag(() => evaluateExpression(expr, {}))
      expect(value).toBeInstanceOf(Error)
      expect((value as Error).message).toMatch(/stopped|timeout|MiB/i)
      expect(performance.now() - started).toBeLessThan(1_000 + 1_500)
      expect(maxLagMs).toBeLessThan(500)
    }, 10_000)
  }
  test('a memory bomb is stopped by the memory cap or the engine, the thread answering', async () => {
    const { value, maxLagMs } = await withLoopLag(() =>
      evaluateExpression(
        "$length($reduce([1..40], function($a, $b){ $a & $a }, 'xxxxxxxxxxxxxxxx'))",
        {}
      )
    )
    expect(value).toBeInstanceOf(Error)
    expect(maxLagMs).toBeLessThan(500)
  }, 10_000)
  test('$eval is gone (it ran strings as expressions, past the regex ban)', async () => {
    expect(evaluateExpression('($x := "$eval($x)"; $eval($x))', {})).rejects.toThrow(
      '$eval is not available'
    )
    expect(evaluateExpression('$eval("/(a+)+$/")', {})).rejects.toThrow('$eval is not available')
  })
  test('$pad is bounded and still pads', async () => {
    expect(evaluateExpression("$pad('', 2e8)", {})).rejects.toThrow('over the limit')
    expect(await evaluateExpression("$pad('ab', 5, '#')", {})).toBe('ab###')
    expect(await evaluateExpression("$pad('ab', -5)", {})).toBe('   ab')
  })
  test('regex literals are refused at compile time', () => {
    expect(expressionSyntaxError('$match("aaa", /(a+)+$/)')).toContain(
      'regular expressions are not allowed'
    )
  })
  test('common expressions run inline; loops, ranges and higher-order built-ins do not', async () => {
    for (const e of [
      'nodes.a.output.value > 50',
      "{ 'n': $count(items), 'name': $uppercase(input.name) }",
      'input.items[price > 10].name',
      '$sum(nodes.*.output.n) & "x"',
    ])
      expect(runsInline(e)).toBe(true)
    for (const e of [
      '[1..10]',
      '$map(xs, function($x){ $x })',
      '$distinct(xs)',
      'xs ~> $sort',
      '$f := $distinct',
      '$replace(s, "a", "b")',
    ])
      expect(runsInline(e)).toBe(false)
    expect(await evaluateExpression('$map([1,2,3], function($x){ $x * 2 })', {})).toEqual([2, 4, 6])
    expect(
      await evaluateExpression('nodes.`__proto__`.output', {
        nodes: JSON.parse('{"__proto__": {"output": 7}}'),
      })
    ).toBe(7)
  })
  test('a linear expression over large data that overruns the inline budget gets its whole bound in the sandbox', async () => {
    const items = Array.from({ length: 200_000 }, (_, i) => ({ a: i, b: `s${i}` }))
    const value = await evaluateExpression(
      '$count(items[a % 2 = 0].b)',
      { items },
      {},
      { timeoutMs: 5_000, maxDepth: 200, maxSequence: 1_000_000, maxResultBytes: 1e8 }
    )
    expect(value).toBe(100_000)
  }, 20_000)
})

/**
 * Pipeline steps: the schema of each primitive and how it maps a value to the next value.
 * `transform` evaluates JSONata with `$` bound to the current value and `$input`, `$nodes`,
 * `$run` bound from the run context. Further primitives register here.
 * @module
 */
import * as v from 'valibot'
import { evaluateExpression, expressionSyntaxError } from '../expr/expression.ts'

export interface StepContext {
  input: unknown
  nodes: Record<string, unknown>
  run: unknown
  signal?: AbortSignal
}

export interface StepDefinition {
  schema: v.GenericSchema
  /** Static checks beyond the schema (e.g. expression syntax); returns messages by sub-path. */
  check?(step: Record<string, unknown>): { path: string; message: string }[]
  run(step: Record<string, unknown>, value: unknown, ctx: StepContext): Promise<unknown>
}

const transform: StepDefinition = {
  schema: v.strictObject({
    op: v.literal('transform'),
    expr: v.pipe(v.string(), v.minLength(1), v.maxLength(16_384)),
  }),
  check(step) {
    const err = expressionSyntaxError(String(step.expr))
    return err ? [{ path: '/expr', message: err }] : []
  },
  run(step, value, ctx) {
    return evaluateExpression(String(step.expr), value, {
      input: ctx.input,
      nodes: ctx.nodes,
      run: ctx.run,
    })
  },
}

export const STEPS: Record<string, StepDefinition> = { transform }

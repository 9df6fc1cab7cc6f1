/**
 * The ten pipeline primitives by name. `transform` evaluates JSONata with `$` bound to the
 * current value and `$input`, `$nodes`, `$run` bound from the run context.
 * @module
 */
import * as v from 'valibot'
import { strictObject } from '../model/schema.ts'
import { evaluateExpression, expressionSyntaxError } from '../expr/expression.ts'
import type { StepDefinition } from './step.ts'
import { HTTP_STEPS } from './steps-http.ts'
import { TABLE_STEPS } from './steps-table.ts'
import { TEXT_STEPS } from './steps-text.ts'

export type { StepContext, StepDefinition } from './step.ts'

const transform: StepDefinition = {
  schema: strictObject({
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

export const STEPS: Record<string, StepDefinition> = {
  transform,
  ...TABLE_STEPS,
  ...TEXT_STEPS,
  ...HTTP_STEPS,
}

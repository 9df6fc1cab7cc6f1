/**
 * Pipelines: a value flows through steps; the last value is the result. Shared by `transform`
 * nodes and (later) the agent's `execute_pipeline`.
 * @module
 */
import * as v from 'valibot'
import { ErrorCode, RetryableError, TerminalError, type ErrorDetail } from '../errors.ts'
import { issuesToDetails } from '../model/issues.ts'
import { STEPS, type StepContext } from './steps.ts'

export const MAX_PIPELINE_STEPS = 100
export const MAX_PIPELINE_VALUE_BYTES = 8 * 1024 * 1024

/** Validates each step by its own schema; paths are relative to the pipeline array. */
export function pipelineErrors(pipeline: unknown, base: string): ErrorDetail[] {
  if (!Array.isArray(pipeline))
    return [{ path: base, message: 'pipeline must be an array of steps' }]
  if (pipeline.length === 0) return [{ path: base, message: 'pipeline needs at least one step' }]
  if (pipeline.length > MAX_PIPELINE_STEPS) {
    return [
      {
        path: base,
        message: `pipeline has ${pipeline.length} steps, over the limit of ${MAX_PIPELINE_STEPS}`,
      },
    ]
  }
  const errors: ErrorDetail[] = []
  pipeline.forEach((step, i) => {
    const at = `${base}/${i}`
    const op = step && typeof step === 'object' ? (step as { op?: unknown }).op : undefined
    const def = typeof op === 'string' ? STEPS[op] : undefined
    if (!def) {
      errors.push({
        path: `${at}/op`,
        message: `unknown step op ${JSON.stringify(op)}; known: ${Object.keys(STEPS).join(', ')}`,
      })
      return
    }
    const parsed = v.safeParse(def.schema, step)
    if (!parsed.success) errors.push(...issuesToDetails(parsed.issues, at))
    else
      for (const e of def.check?.(step as Record<string, unknown>) ?? [])
        errors.push({ path: at + e.path, message: e.message })
  })
  return errors
}

export async function runPipeline(
  pipeline: Record<string, unknown>[],
  start: unknown,
  ctx: StepContext
): Promise<unknown> {
  let value = start
  for (let i = 0; i < pipeline.length; i++) {
    ctx.signal?.throwIfAborted()
    const step = pipeline[i]
    const def = STEPS[String(step.op)]
    try {
      if (!def) throw new Error(`unknown step op "${String(step.op)}"`)
      value = await def.run(step, value, ctx)
    } catch (e) {
      // A step is deterministic over its input, so its failure is final; only a step that says
      // otherwise (http_request: 429, 5xx, network) may pass with time.
      const message = `pipeline step ${i} (${String(step.op)}) failed: ${(e as Error).message}`
      if (e instanceof RetryableError)
        throw new RetryableError(ErrorCode.StepFailed, message, e.retryAfterMs, { cause: e })
      throw new TerminalError(ErrorCode.StepFailed, message, [], { cause: e })
    }
    const size = value === undefined ? 0 : JSON.stringify(value).length
    if (size > MAX_PIPELINE_VALUE_BYTES) {
      throw new TerminalError(
        ErrorCode.StepFailed,
        `pipeline step ${i} (${String(step.op)}) produced ${size} bytes, over the limit of ${MAX_PIPELINE_VALUE_BYTES}`
      )
    }
  }
  return value === undefined ? null : value
}

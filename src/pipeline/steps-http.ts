/** http_request: one guarded HTTP call; its output is the response body (or the whole response). */
import * as v from 'valibot'
import { record, strictObject } from '../model/schema.ts'
import { httpCall, type HttpCallSpec } from '../net/http-call.ts'
import type { StepDefinition } from './step.ts'

const http_request: StepDefinition = {
  schema: strictObject({
    op: v.literal('http_request'),
    method: v.optional(v.picklist(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
    url: v.pipe(v.string(), v.minLength(1), v.maxLength(8192)),
    headers: v.optional(record(v.string(), v.string())),
    query: v.optional(record(v.string(), v.union([v.string(), v.number(), v.boolean()]))),
    body: v.optional(v.unknown()),
    /** Send the current value as the JSON body. */
    body_from_value: v.optional(v.boolean()),
    response: v.optional(v.picklist(['auto', 'json', 'text'])),
    expect_status: v.optional(
      v.array(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599)))
    ),
    max_response_bytes: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64 * 1024 * 1024))
    ),
    timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(300_000))),
    output: v.optional(v.picklist(['body', 'response'])),
  }),
  async run(step, value, ctx) {
    if (!ctx.fetch) throw new Error('http_request is not available here (no outbound HTTP client)')
    const spec = {
      ...step,
      body: step.body_from_value ? value : step.body,
    } as unknown as HttpCallSpec
    const res = await httpCall(ctx.fetch, spec, { signal: ctx.signal })
    return step.output === 'response' ? res : res.body
  },
}

export const HTTP_STEPS: Record<string, StepDefinition> = { http_request }

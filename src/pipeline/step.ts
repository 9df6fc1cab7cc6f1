/** What a pipeline step is, and what it may use while it runs. @module */
import type * as v from 'valibot'
import type { GuardedFetch } from '../net/guarded-fetch.ts'

export interface StepContext {
  input: unknown
  nodes: Record<string, unknown>
  run: unknown
  signal?: AbortSignal
  /** The SSRF-guarded client; http_request fails without one. */
  fetch?: GuardedFetch
}

export interface StepDefinition {
  schema: v.GenericSchema
  /** Static checks beyond the schema (expression or regex syntax, time zones), by sub-path. */
  check?(step: Record<string, unknown>): { path: string; message: string }[]
  run(step: Record<string, unknown>, value: unknown, ctx: StepContext): Promise<unknown>
}

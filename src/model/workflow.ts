/**
 * The workflow document (SPEC §2), version 1: strict valibot schemas and the inferred types.
 * Node configs are checked per type by `node-configs.ts`; graph rules by `validate.ts`.
 * @module
 */
import * as v from 'valibot'
import { DEFAULT_MAX_JSON_DEPTH } from './json-bounds.ts'
import { record, strictObject } from './schema.ts'

export const NAME_PATTERN = /^[a-z0-9._-]{1,64}$/
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

export const RetrySchema = strictObject({
  max_attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(20))),
  backoff_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3_600_000))),
  max_backoff_ms: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000))
  ),
})

export const NodeSchema = strictObject({
  id: v.pipe(v.string(), v.regex(NODE_ID_PATTERN, 'must be 1-64 of [A-Za-z0-9_-]')),
  type: v.pipe(
    v.string(),
    v.regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be 1-64 of [a-z0-9_.-], starting with a letter')
  ),
  name: v.optional(v.pipe(v.string(), v.maxLength(200))),
  description: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  config: v.optional(record(v.string(), v.unknown())),
  retry: v.optional(RetrySchema),
  timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000))),
  join: v.optional(v.picklist(['all', 'any'])),
})

export const EdgeSchema = strictObject({
  from: v.pipe(v.string(), v.regex(NODE_ID_PATTERN, 'must be a node id')),
  to: v.pipe(v.string(), v.regex(NODE_ID_PATTERN, 'must be a node id')),
  when: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096))),
  on: v.optional(v.picklist(['approve', 'reject', 'error'])),
  max_iterations: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
})

export const WorkflowSchema = strictObject({
  name: v.pipe(v.string(), v.regex(NAME_PATTERN, 'must be 1-64 of [a-z0-9._-]')),
  description: v.optional(v.pipe(v.string(), v.maxLength(4000))),
  version: v.optional(v.literal(1)),
  patch_policy: v.optional(v.picklist(['auto', 'approve'])),
  nodes: v.pipe(v.array(NodeSchema), v.minLength(1, 'a workflow needs at least one node')),
  edges: v.optional(v.array(EdgeSchema)),
})

export type WorkflowNode = v.InferOutput<typeof NodeSchema>
export type WorkflowEdge = v.InferOutput<typeof EdgeSchema>
export type Workflow = v.InferOutput<typeof WorkflowSchema>

export interface Limits {
  maxNodes: number
  maxEdges: number
  maxDocumentBytes: number
  maxAgentsPerRun: number
  /** Nesting of any JSON value that enters: bodies, documents, inputs, outputs. */
  maxJsonDepth: number
}

export const DEFAULT_LIMITS: Limits = {
  maxNodes: 500,
  maxEdges: 2_000,
  maxDocumentBytes: 1024 * 1024,
  maxAgentsPerRun: 5,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
}

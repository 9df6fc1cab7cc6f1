/**
 * Per-type config schemas (SPEC §2: "each type's config is validated by its own valibot schema").
 * A type missing here is unknown: accepted with a warning and skipped at run time.
 * @module
 */
import * as v from 'valibot'
import { record, strictObject } from './schema.ts'
import type { ErrorDetail } from '../errors.ts'
import { pipelineErrors } from '../pipeline/pipeline.ts'

export interface NodeTypeDefinition {
  config: v.GenericSchema
  /** Checks beyond the schema; paths are relative to the node's config. */
  check?(config: Record<string, unknown>): ErrorDetail[]
}

const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000))
const stringMap = record(v.string(), v.string())

export const NODE_TYPES: Record<string, NodeTypeDefinition> = {
  noop: {
    config: strictObject({ output: v.optional(v.unknown()) }),
  },
  sleep: {
    config: strictObject({ ms, output: v.optional(v.unknown()) }),
  },
  transform: {
    config: strictObject({ input: v.optional(v.unknown()), pipeline: v.array(v.unknown()) }),
    check: (config) => pipelineErrors(config.pipeline, '/pipeline'),
  },
  http: {
    config: strictObject({
      method: v.optional(v.picklist(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
      url: v.pipe(v.string(), v.minLength(1), v.maxLength(8192)),
      headers: v.optional(stringMap),
      query: v.optional(record(v.string(), v.union([v.string(), v.number(), v.boolean()]))),
      body: v.optional(v.unknown()),
      response: v.optional(v.picklist(['auto', 'json', 'text'])),
      timeout_ms: v.optional(ms),
      expect_status: v.optional(
        v.array(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599)))
      ),
      max_response_bytes: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64 * 1024 * 1024))
      ),
    }),
  },
  hitl: {
    config: strictObject({
      prompt: v.pipe(v.string(), v.minLength(1), v.maxLength(16_384)),
      timeout_ms: v.optional(ms),
      on_timeout: v.optional(v.picklist(['approve', 'reject', 'fail'])),
      approvers: v.optional(v.array(v.string())),
      data: v.optional(v.unknown()),
    }),
  },
  agent: {
    config: strictObject({
      instructions: v.pipe(v.string(), v.minLength(1), v.maxLength(65_536)),
      model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
      tools: v.optional(
        v.array(
          v.picklist([
            'execute_pipeline',
            'patch_workflow',
            'search_tools',
            'openapi_action',
            'delegate_to_agent',
          ])
        )
      ),
      max_turns: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50))),
      input: v.optional(v.unknown()),
    }),
  },
}

export const KNOWN_NODE_TYPES = new Set(Object.keys(NODE_TYPES))

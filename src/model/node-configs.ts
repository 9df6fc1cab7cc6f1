/**
 * Per-type config schemas (SPEC §2: "each type's config is validated by its own valibot schema").
 * A type missing here is unknown: accepted with a warning and skipped at run time.
 * @module
 */
import * as v from 'valibot'
import { isJsonObject, record, strictObject } from './schema.ts'
import { schemaProblems } from '../agent/json-schema.ts'
import { TOOL_NAMES } from '../agent/tools.ts'
import { REGISTRY_NAME } from './tool-record.ts'
import { PRINCIPAL_NAME } from '../config.ts'
import type { ErrorDetail } from '../errors.ts'
import { pipelineErrors } from '../pipeline/pipeline.ts'

export interface NodeTypeDefinition {
  config: v.GenericSchema
  /** Checks beyond the schema; paths are relative to the node's config. */
  check?(config: Record<string, unknown>): ErrorDetail[]
}

const ms = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400_000))
const stringMap = record(v.string(), v.string())
const ROLE_NAMES = new Set(['viewer', 'operator', 'admin'])
const registryName = v.pipe(v.string(), v.regex(REGISTRY_NAME, 'must be 1-64 of [a-z0-9._-]'))
/** An approval waits at most 30 days. */
export const MAX_APPROVAL_TIMEOUT_MS = 30 * 86_400_000

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
      timeout_ms: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_APPROVAL_TIMEOUT_MS))
      ),
      on_timeout: v.optional(v.picklist(['approve', 'reject', 'fail'])),
      approvers: v.optional(
        v.pipe(
          v.array(
            v.pipe(
              v.string(),
              v.regex(PRINCIPAL_NAME, 'must be a role or principal name ([a-z0-9._-]{1,64})')
            )
          ),
          v.minLength(1),
          v.maxLength(100)
        )
      ),
      quorum: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
      allow_self_approval: v.optional(v.boolean()),
      data: v.optional(v.unknown()),
      notify: v.optional(
        strictObject({
          url: v.pipe(v.string(), v.minLength(1), v.maxLength(8192)),
          headers: v.optional(stringMap),
        })
      ),
    }),
    check(config) {
      // Named principals only (no role): a quorum larger than the list can never be reached.
      const approvers = (config.approvers as string[] | undefined) ?? []
      const quorum = (config.quorum as number | undefined) ?? 1
      const named = approvers.filter((a) => !ROLE_NAMES.has(a))
      if (approvers.length > 0 && named.length === approvers.length && quorum > named.length)
        return [
          {
            path: '/quorum',
            message: `quorum ${quorum} can never be reached by the ${named.length} named approver(s)`,
          },
        ]
      return []
    },
  },
  agent: {
    config: strictObject({
      instructions: v.pipe(v.string(), v.minLength(1), v.maxLength(65_536)),
      input: v.optional(v.unknown()),
      model: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
      tools: v.optional(v.pipe(v.array(v.picklist(TOOL_NAMES)), v.maxLength(TOOL_NAMES.length))),
      max_turns: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50))),
      token_budget: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000_000))
      ),
      temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
      output_schema: v.optional(
        v.custom<Record<string, unknown>>(isJsonObject, 'must be a JSON Schema object')
      ),
      patch_policy: v.optional(v.picklist(['inherit', 'auto', 'approve'])),
      apis: v.optional(v.pipe(v.array(registryName), v.maxLength(100))),
      tool_names: v.optional(v.pipe(v.array(registryName), v.maxLength(1_000))),
      approve_tools: v.optional(
        v.pipe(v.array(v.picklist(TOOL_NAMES)), v.maxLength(TOOL_NAMES.length))
      ),
      trust_tool_output: v.optional(v.boolean()),
    }),
    check(config) {
      return config.output_schema === undefined
        ? []
        : schemaProblems(config.output_schema, '/output_schema')
    },
  },
}

export const KNOWN_NODE_TYPES = new Set(Object.keys(NODE_TYPES))

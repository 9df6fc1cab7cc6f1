/**
 * The agent's five tools (SPEC §7): their names, what the model is told about them, and the JSON
 * Schema of their arguments (checked before anything runs). The catalogue is part of the stable
 * system prompt, so it never depends on a run, a node or a grant.
 * @module
 */
import type { ChatCompletionTool } from 'openai/resources/chat/completions'

export const TOOL_NAMES = [
  'execute_pipeline',
  'patch_workflow',
  'search_tools',
  'openapi_action',
  'delegate_to_agent',
] as const
export type ToolName = (typeof TOOL_NAMES)[number]

export const isToolName = (s: string): s is ToolName =>
  (TOOL_NAMES as readonly string[]).includes(s)

const NAME = { type: 'string', pattern: '^[a-z0-9._-]{1,64}$' }

export interface ToolDefinition {
  name: ToolName
  description: string
  parameters: Record<string, unknown>
}

export const TOOLS: Record<ToolName, ToolDefinition> = {
  execute_pipeline: {
    name: 'execute_pipeline',
    description:
      'Runs data-processing steps in the worker and returns the last value. Either `steps` (an array of pipeline steps, each {"op": ..., ...}; the value starts as `input`, else the node input) or `tool` (the name of a saved composite tool) with its `input`. Steps: http_request, table_sort, table_filter, table_select, top_k, groupby, join, transform (JSONata), regex_extract, parse_date. Results over 16 KiB come back as {truncated: true, total_bytes, preview}.',
    parameters: {
      type: 'object',
      properties: {
        steps: { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: 100 },
        tool: NAME,
        input: {},
      },
      additionalProperties: false,
      oneOf: [{ required: ['steps'] }, { required: ['tool'] }],
    },
  },
  patch_workflow: {
    name: 'patch_workflow',
    description:
      'Changes the running workflow: RFC 6902 operations on its document (paths under /nodes and /edges). Nodes that have started cannot be changed or removed; the result must be a valid workflow. Answers {status: "applied", patch_id, ir_version}, or {status: "pending", patch_id} when a human must approve it first (then go on with your work), or an error with details and a valid example: fix the patch and try again (at most 3 refusals).',
    parameters: {
      type: 'object',
      properties: {
        operations: { type: 'array', items: { type: 'object' }, minItems: 1, maxItems: 100 },
        reason: { type: 'string', maxLength: 2000 },
      },
      required: ['operations'],
      additionalProperties: false,
    },
  },
  search_tools: {
    name: 'search_tools',
    description:
      'Finds saved composite tools by words in their name and description. Answers {tools: [{name, description, input_schema}]}, best match first, at most 20. Run one with execute_pipeline {tool, input}.',
    parameters: {
      type: 'object',
      properties: { query: { type: 'string', minLength: 1, maxLength: 200 } },
      required: ['query'],
      additionalProperties: false,
    },
  },
  openapi_action: {
    name: 'openapi_action',
    description:
      'Calls an operation of a registered HTTP API: `api` (its registered name), `operation_id`, `params` (path, query and header parameters by name) and `body`. Answers {status, content_type, body}; a non-2xx status is a result, not an error.',
    parameters: {
      type: 'object',
      properties: {
        api: NAME,
        operation_id: { type: 'string', minLength: 1, maxLength: 200 },
        params: { type: 'object' },
        body: {},
      },
      required: ['api', 'operation_id'],
      additionalProperties: false,
    },
  },
  delegate_to_agent: {
    name: 'delegate_to_agent',
    description:
      'Hands a sub-task to a child agent with its own conversation: `instructions`, `input` (its data) and `tools` (a subset of yours). The child uses what remains of your token budget, at most two levels deep. Answers the child output {content, data?, turns, tool_calls, usage}.',
    parameters: {
      type: 'object',
      properties: {
        instructions: { type: 'string', minLength: 1, maxLength: 16384 },
        input: {},
        tools: { type: 'array', items: { enum: [...TOOL_NAMES] }, uniqueItems: true },
      },
      required: ['instructions'],
      additionalProperties: false,
    },
  },
}

/** The request's `tools`: only the granted ones. */
export function toolsFor(granted: readonly ToolName[]): ChatCompletionTool[] {
  return granted.map((name) => ({
    type: 'function',
    function: {
      name,
      description: TOOLS[name].description,
      parameters: TOOLS[name].parameters,
    },
  }))
}

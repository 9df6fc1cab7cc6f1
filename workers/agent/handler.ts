/**
 * The agent node type: one task runs the agent loop (src/agent/loop.ts) for the node's current
 * activation. The worker talks only to the bus and the model server: checkpoints live in the
 * bus's scratch state, events, patches and the tool registry go through the request lane, and
 * pipelines run here, their http_request steps through the SSRF guard.
 * @module
 */
import type { Config } from '../../src/config.ts'
import { schemaErrors } from '../../src/agent/json-schema.ts'
import {
  AgentError,
  noUsage,
  runAgent,
  type AgentEnv,
  type AgentSpec,
  type ToolActions,
  ToolApprovalNeeded,
} from '../../src/agent/loop.ts'
import type { ModelClient } from '../../src/agent/model.ts'
import type { ToolName } from '../../src/agent/tools.ts'
import { AobError, ErrorCode, RetryableError, TerminalError } from '../../src/errors.ts'
import type { Task } from '../../src/model/messages.ts'
import { buildApiCall, type ApiCall, type ApiRecord } from '../../src/model/openapi.ts'
import { usesNetwork, type ToolRecord } from '../../src/model/tool-record.ts'
import { readCapped } from '../../src/net/http-call.ts'
import type { GuardedFetch } from '../../src/net/guarded-fetch.ts'
import { pipelineErrors, runPipeline } from '../../src/pipeline/pipeline.ts'
import type { Bus } from '../../src/ports/bus.ts'
import type { Lanes } from '../../src/runs/lanes.ts'
import { Wait, type Handler } from '../../src/worker/run-worker.ts'

/** Checkpoints outlive a crashed worker long enough for another to take the task over. */
const CHECKPOINT_TTL_MS = 24 * 3600_000
const REQUEST_TIMEOUT_MS = 10_000

interface AgentConfigOfNode {
  instructions: string
  input?: unknown
  model?: string
  tools?: ToolName[]
  max_turns?: number
  token_budget?: number
  temperature?: number
  output_schema?: unknown
  tool_names?: string[]
  apis?: string[]
  trust_tool_output?: boolean
  approve_tools?: ToolName[]
}

export interface AgentDeps {
  bus: Bus
  lanes: Lanes
  config: Config
  model: ModelClient
  fetch: GuardedFetch
}

export function createAgentHandler(deps: AgentDeps): Handler {
  return async (task, { signal, log, traced }) => {
    const config = task.config as unknown as AgentConfigOfNode
    const ctx = task.context
    if (!ctx) throw new TerminalError(ErrorCode.Internal, 'agent task carries no context')
    const budget = task.agent ?? { tokens_before: 0, executions_before: 1 }
    const limit = deps.config.limits.maxAgentsPerRun
    if (budget.executions_before > limit)
      throw new AgentError(
        ErrorCode.SpawnLimit,
        `the run may start at most ${limit} agent executions (AOB_MAX_AGENTS_PER_RUN)`,
        noUsage()
      )
    const scope = `${task.run_id}:${task.node_id}:${task.iteration}`
    const spec: AgentSpec = {
      key: `agent:${task.node_id}:${task.iteration}`,
      scope,
      instructions: config.instructions,
      input: 'input' in config ? config.input : ctx.input,
      model: config.model ?? deps.config.agent.model,
      temperature: config.temperature,
      tools: config.tools ?? ['execute_pipeline'],
      maxTurns: config.max_turns ?? 8,
      budget: config.token_budget,
      outputSchema: config.output_schema,
      depth: 0,
      path: [],
      trustToolOutput: config.trust_tool_output ?? false,
      approveTools: config.approve_tools ?? [],
    }
    const env: AgentEnv = {
      model: deps.model,
      checkpoints: {
        async load(key) {
          const raw = await deps.bus.getState(task.run_id, key)
          return raw ? JSON.parse(raw) : null
        },
        save: (key, state) =>
          deps.bus.putState(task.run_id, key, JSON.stringify(state), CHECKPOINT_TTL_MS),
      },
      actions: actionsFor({ ...deps, fetch: traced(deps.fetch) }, task, config, signal),
      async emit(key, type, data) {
        const reply = await requestWithRetry(deps.lanes, {
          id: `${scope}:emit:${key}`,
          kind: 'emit',
          run_id: task.run_id,
          payload: { node_id: task.node_id, epoch: task.epoch, events: [{ key, type, data }] },
        })
        if (!reply.ok) log.warn({ error: reply.error }, 'agent event refused')
      },
      runTokensBefore: budget.tokens_before,
      maxTokensPerRun: deps.config.agent.maxTokensPerRun,
      maxExecutions: limit,
      executionsBefore: budget.executions_before,
      decision: task.resume,
      signal,
      log,
    }
    try {
      return await runAgent(spec, env)
    } catch (e) {
      // The node waits on the call's approval; the next task resumes from the checkpoint.
      if (e instanceof ToolApprovalNeeded)
        return new Wait('tool_approval', {
          kind: 'tool',
          key: e.key,
          tool: e.tool,
          arguments: e.args,
        })
      throw e
    }
  }
}

function actionsFor(
  deps: AgentDeps,
  task: Task,
  config: AgentConfigOfNode,
  signal: AbortSignal
): ToolActions {
  const ctx = task.context as NonNullable<Task['context']>
  const request = async (kind: 'tool_get' | 'tool_search' | 'api_get', payload: unknown) => {
    const reply = await requestWithRetry(deps.lanes, {
      id: crypto.randomUUID(),
      kind,
      run_id: task.run_id,
      payload,
    })
    if (!reply.ok) throw new AobError(ErrorCode.StepFailed, replyMessage(reply))
    return reply.value
  }
  const granted = (name: string) => !config.tool_names || config.tool_names.includes(name)
  return {
    async pipeline(args, nodeInput) {
      let steps = args.steps
      let input = 'input' in args ? args.input : nodeInput
      if (args.tool !== undefined) {
        const tool = granted(args.tool)
          ? ((await request('tool_get', { name: args.tool })) as ToolRecord | null)
          : null
        if (!tool) throw new AobError(ErrorCode.ToolNotFound, `no tool named "${args.tool}"`)
        const invalid = schemaErrors(tool.input_schema, args.input ?? null)
        if (invalid.length)
          throw new AobError(
            ErrorCode.InvalidInput,
            `the input does not match ${tool.name}'s input_schema: ${invalid.map((e) => `${e.path} ${e.message}`).join('; ')}`
          )
        steps = tool.pipeline
        input = args.input ?? null
      }
      const errors = pipelineErrors(steps, '/steps')
      if (errors.length)
        throw new AobError(
          ErrorCode.InvalidInput,
          `invalid steps: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`
        )
      const list = steps as Record<string, unknown>[]
      const value = await runPipeline(list, input, {
        input: ctx.input,
        nodes: ctx.nodes,
        run: ctx.run,
        signal,
        fetch: deps.fetch,
      })
      return { value, tainted: usesNetwork(list) }
    },
    async patch(args, opts) {
      const reply = await requestWithRetry(deps.lanes, {
        id: opts.idempotencyKey,
        kind: 'patch',
        run_id: task.run_id,
        payload: { ...args, node_id: task.node_id, tainted: opts.tainted },
      })
      if (reply.ok) return { ok: true, value: reply.value }
      const { example, ...error } = reply.error as typeof reply.error & { example?: unknown }
      return { ok: false, error, example }
    },
    async searchTools(query) {
      return request('tool_search', {
        query,
        ...(config.tool_names ? { names: config.tool_names } : {}),
      })
    },
    async openapi(args, opts) {
      const name = String(args.api)
      if (!(config.apis ?? []).includes(name))
        throw new AobError(ErrorCode.ApiNotFound, `"${name}" is not among this node's apis`)
      const api = (await request('api_get', { name })) as ApiRecord | null
      if (!api) throw new AobError(ErrorCode.ApiNotFound, `no API named "${name}"`)
      const call = buildApiCall(
        api,
        String(args.operation_id),
        (args.params ?? {}) as Record<string, unknown>,
        args.body
      )
      if ('errors' in call)
        throw new AobError(
          ErrorCode.InvalidInput,
          'the call does not match the operation',
          call.errors
        )
      return callApi(deps.fetch, api, call, opts)
    },
  }
}

type RequestBody = Parameters<Lanes['request']>[0]

const MAX_API_RESPONSE_BYTES = 1024 * 1024
const API_TIMEOUT_MS = 30_000

/**
 * One registered-API call through the SSRF guard, with the credential from this process's
 * environment. The model gets `{status, content_type, body}`, non-2xx included; the credential is
 * never in what it gets back, even when the API echoes it.
 */
async function callApi(
  fetcher: GuardedFetch,
  api: ApiRecord,
  call: ApiCall,
  opts: { idempotencyKey: string; signal: AbortSignal }
) {
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
    ...call.headers,
    'idempotency-key': opts.idempotencyKey,
  }
  let secret: string | undefined
  if (api.auth) {
    secret = process.env[api.auth.secret] || undefined
    if (!secret)
      throw new AobError(
        ErrorCode.StepFailed,
        `the agent worker has no ${api.auth.secret} set for ${api.name}`
      )
    headers[api.auth.header.toLowerCase()] = secret
  }
  let body: string | undefined
  if (call.body !== undefined) {
    body = JSON.stringify(call.body)
    headers['content-type'] = 'application/json'
  }
  let res: Response
  try {
    res = (
      await fetcher(call.url, {
        method: call.method,
        headers,
        body,
        signal: AbortSignal.any([opts.signal, AbortSignal.timeout(API_TIMEOUT_MS)]),
      })
    ).response
  } catch (e) {
    const message = secret
      ? (e as Error).message.replaceAll(secret, '[redacted]')
      : (e as Error).message
    throw new AobError(ErrorCode.StepFailed, `${call.method} ${api.name} failed: ${message}`)
  }
  let text = await readCapped(res, MAX_API_RESPONSE_BYTES)
  if (secret) text = text.replaceAll(secret, '[redacted]')
  const contentType = res.headers.get('content-type') ?? ''
  let parsed: unknown = text
  if (contentType.includes('json'))
    try {
      parsed = JSON.parse(text)
    } catch {}
  return { status: res.status, content_type: contentType, body: parsed }
}

/** A request, asked again (same id) when no reply came; the handlers are idempotent by id. */
async function requestWithRetry(lanes: Lanes, req: RequestBody) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await lanes.request(req, REQUEST_TIMEOUT_MS)
    } catch (e) {
      if (!(e instanceof RetryableError) || attempt >= 3) throw e
    }
  }
}

function replyMessage(reply: { error?: { message?: string } }): string {
  return reply.error?.message ?? 'the coordinator refused the request'
}

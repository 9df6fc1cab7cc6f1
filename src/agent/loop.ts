/**
 * The agent loop (SPEC §7): call the model; run every tool call it asks for (checked against the
 * grant and the tool's JSON Schema first); append the results; repeat until an answer without
 * tool calls, `max_turns`, or a budget. Durable: the conversation is checkpointed after every
 * model answer (before its tool calls run) and after every round of tool results, so a worker
 * killed mid-agent resumes from there and never repeats a completed model call; side-effecting
 * calls carry an idempotency key `<run>:<node>:<iteration>:<turn>:<call index>` (delegated
 * agents add their path), so a resumed step does not act twice.
 * @module
 */
import { AobError, ErrorCode, TerminalError, type ErrorDetail } from '../errors.ts'
import type { Logger } from '../log.ts'
import { schemaErrors } from './json-schema.ts'
import type { ChatMessage, ModelClient, ToolCall } from './model.ts'
import { inputMessage, systemMessage } from './prompt.ts'
import { isToolName, TOOLS, toolsFor, type ToolName } from './tools.ts'
import type { ToolDecision } from '../engine/state.ts'

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  total_tokens: number
  llm_calls: number
}

export const noUsage = (): Usage => ({
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  total_tokens: 0,
  llm_calls: 0,
})

export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  return {
    prompt_tokens: a.prompt_tokens + (b.prompt_tokens ?? 0),
    completion_tokens: a.completion_tokens + (b.completion_tokens ?? 0),
    cached_tokens: a.cached_tokens + (b.cached_tokens ?? 0),
    total_tokens: a.total_tokens + (b.total_tokens ?? 0),
    llm_calls: a.llm_calls + (b.llm_calls ?? 0),
  }
}

/** Tool results over this many bytes of JSON reach the model truncated. */
export const MAX_TOOL_RESULT_BYTES = 16 * 1024
const PREVIEW_CHARS = 2_000
/** Refused patches a node may make before patch_workflow stops validating. */
export const MAX_PATCH_REFUSALS = 3
/** The root agent is depth 0; delegated agents go down to this depth. */
export const MAX_AGENT_DEPTH = 2

export interface AgentSpec {
  /** Checkpoint key of this execution (children extend their parent's). */
  key: string
  /** `<run>:<node>:<iteration>`: idempotency keys of side effects start with it. */
  scope: string
  instructions: string
  input: unknown
  model: string
  temperature?: number
  tools: ToolName[]
  maxTurns: number
  /** Tokens this execution may use, its children included; undefined: no node budget. */
  budget?: number
  outputSchema?: unknown
  depth: number
  /** Turn.call indexes of the delegations leading here; [] for the node's own agent. */
  path: string[]
  trustToolOutput: boolean
  /** Tools whose every call waits for a human decision first. */
  approveTools: ToolName[]
}

export interface PatchAnswer {
  ok: boolean
  value?: unknown
  error?: { code: string; message: string; details?: ErrorDetail[] }
  /** With a refusal: a patch that would be valid for this run. */
  example?: unknown
}

/** What tools do outside the conversation; the worker implements these over the bus. */
export interface ToolActions {
  pipeline(
    args: { steps?: Record<string, unknown>[]; tool?: string; input?: unknown },
    nodeInput: unknown,
    signal: AbortSignal
  ): Promise<{ value: unknown; tainted: boolean }>
  patch(
    args: { operations: unknown[]; reason?: string },
    opts: { idempotencyKey: string; tainted: boolean }
  ): Promise<PatchAnswer>
  searchTools(query: string): Promise<unknown>
  openapi(
    args: Record<string, unknown>,
    opts: { idempotencyKey: string; signal: AbortSignal }
  ): Promise<unknown>
}

export interface AgentEnv {
  model: ModelClient
  checkpoints: {
    load(key: string): Promise<unknown>
    save(key: string, state: unknown): Promise<void>
  }
  actions: ToolActions
  /** Sends an event of the node (agent_turn, log); `key` makes a repeated send count once. */
  emit(key: string, type: 'agent_turn' | 'log', data: Record<string, unknown>): Promise<void>
  /** Tokens the run used outside this node's executions. */
  runTokensBefore: number
  maxTokensPerRun: number
  /** Agent executions the run may have; `executionsBefore` counts this node's own. */
  maxExecutions: number
  executionsBefore: number
  /** The decision on a tool call this task resumes with (SPEC §7 tool approvals). */
  decision?: ToolDecision
  signal: AbortSignal
  log: Logger
}

/**
 * A call of an `approve_tools` tool has no decision yet: the worker ends the task with a wait,
 * the node waits on the approval, and a new task resumes from the checkpoint with the decision.
 */
export class ToolApprovalNeeded extends Error {
  override name = 'ToolApprovalNeeded'
  constructor(
    readonly key: string,
    readonly tool: string,
    readonly args: unknown
  ) {
    super(`the call of ${tool} (${key}) waits for a decision`)
  }
}

/** What runCall answers for a call that must wait for its decision. */
class Awaiting {
  constructor(
    readonly key: string,
    readonly tool: string,
    readonly args: unknown,
    readonly index: number
  ) {}
}

export interface AgentOutput {
  content: string | null
  data?: unknown
  turns: number
  tool_calls: number
  usage: Usage
  /** Agents this execution delegated to (they count toward AOB_MAX_AGENTS_PER_RUN). */
  delegations?: number
}

interface Pending {
  calls: ToolCall[]
  results: (string | null)[]
}

/** What is checkpointed: everything the loop needs to go on where it stopped. */
interface AgentState {
  v: 1
  messages: ChatMessage[]
  turn: number
  usage: Usage
  toolCalls: number
  refusals: number
  tainted: boolean
  /** Delegated executions started under this one (all depths). */
  children: number
  /** The last turn whose agent_turn event was sent. */
  emitted: number
  /** The usage of the last model call (what its agent_turn carries). */
  lastUsage?: Usage
  pending?: Pending
  done?: { content: string | null; data?: unknown }
  /** Decisions on tool calls, by call key. */
  decisions?: Record<string, ToolDecision>
}

/** Shared by an execution and its delegates: the tokens and executions of the whole tree. */
interface Tally {
  tokens: number
  children: number
}

/** A node's terminal end (MAX_TURNS, BUDGET_EXCEEDED, …), with what it used until then. */
export class AgentError extends TerminalError {
  readonly usage: Usage & { delegations: number }
  constructor(code: ErrorCode, message: string, usage: Usage, delegations = 0) {
    super(code, message)
    this.usage = { ...usage, delegations }
  }
}

export async function runAgent(spec: AgentSpec, env: AgentEnv): Promise<AgentOutput> {
  const saved = (await env.checkpoints.load(spec.key)) as AgentState | null
  const state: AgentState = saved?.v === 1 ? saved : freshState(spec)
  if (env.decision) state.decisions = { ...state.decisions, [env.decision.key]: env.decision }
  const tally: Tally = { tokens: state.usage.total_tokens, children: state.children }
  return loop(spec, env, state, tally)
}

function freshState(spec: AgentSpec): AgentState {
  return {
    v: 1,
    messages: [{ role: 'user', content: inputMessage(spec.input) }],
    turn: 0,
    usage: noUsage(),
    toolCalls: 0,
    refusals: 0,
    tainted: false,
    children: 0,
    emitted: 0,
    pending: undefined,
  }
}

async function loop(
  spec: AgentSpec,
  env: AgentEnv,
  state: AgentState,
  tally: Tally
): Promise<AgentOutput> {
  const save = () => env.checkpoints.save(spec.key, state)
  const fail = (code: ErrorCode, message: string): never => {
    throw new AgentError(code, message, state.usage, state.children)
  }
  const system: ChatMessage = { role: 'system', content: systemMessage(spec.instructions) }
  const tools = toolsFor(spec.tools)
  for (;;) {
    // Sent after the answer was saved; a resend after a crash counts once (its key).
    if (state.turn > state.emitted) await emitTurn(spec, env, state)
    if (state.done) return output(state)
    if (state.pending) {
      await runPending(spec, env, state, tally, save)
      await save()
      continue
    }
    env.signal.throwIfAborted()
    if (state.turn >= spec.maxTurns)
      fail(ErrorCode.MaxTurns, `no final answer after max_turns (${spec.maxTurns}) model calls`)
    if (spec.budget !== undefined && state.usage.total_tokens >= spec.budget)
      fail(
        ErrorCode.BudgetExceeded,
        `token budget reached: ${state.usage.total_tokens} of ${spec.budget} tokens used`
      )
    if (env.runTokensBefore + tally.tokens >= env.maxTokensPerRun)
      fail(
        ErrorCode.BudgetExceeded,
        `the run's token budget is reached: ${env.runTokensBefore + tally.tokens} of ${env.maxTokensPerRun} (AOB_MAX_TOKENS_PER_RUN)`
      )
    const answer = await env.model.chat(
      {
        model: spec.model,
        messages: [system, ...state.messages],
        tools,
        temperature: spec.temperature,
      },
      {
        signal: env.signal,
        onRetry: (attempt, delayMs, why) => {
          env
            .emit(`${pathKey(spec)}#${state.turn + 1}:retry:${attempt}`, 'log', {
              level: 'warn',
              message: `model call ${state.turn + 1} failed (${why}); retry ${attempt} in ${delayMs} ms`,
              ...pathData(spec),
            })
            .catch(() => {})
        },
      }
    )
    const used = {
      ...answer.usage,
      total_tokens: answer.usage.prompt_tokens + answer.usage.completion_tokens,
      llm_calls: 1,
    }
    state.turn += 1
    state.usage = addUsage(state.usage, used)
    state.lastUsage = used
    tally.tokens += used.total_tokens
    const assistant: ChatMessage = {
      role: 'assistant',
      content: answer.content,
      ...(answer.toolCalls.length
        ? {
            tool_calls: answer.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : {}),
    }
    state.messages.push(assistant)
    if (answer.toolCalls.length) {
      state.pending = { calls: answer.toolCalls, results: answer.toolCalls.map(() => null) }
    } else {
      const checked = checkAnswer(spec, answer.content)
      if (checked.ok) state.done = { content: answer.content, data: checked.data }
      else
        state.messages.push({
          role: 'user',
          content: JSON.stringify({
            error: 'your answer does not match the output schema; answer again with JSON that does',
            details: checked.errors,
          }),
        })
    }
    // The answer is kept before anything acts on it: a resumed agent never asks again.
    await save()
  }
}

function output(state: AgentState): AgentOutput {
  const out: AgentOutput = {
    content: state.done?.content ?? null,
    turns: state.turn,
    tool_calls: state.toolCalls,
    usage: state.usage,
  }
  if (state.done?.data !== undefined) out.data = state.done.data
  if (state.children > 0) out.delegations = state.children
  return out
}

async function emitTurn(spec: AgentSpec, env: AgentEnv, state: AgentState) {
  const last = [...state.messages].reverse().find((m) => m.role === 'assistant')
  await env
    .emit(`${pathKey(spec)}#${state.turn}`, 'agent_turn', {
      turn: state.turn,
      tool_calls: toolNamesOf(last),
      usage: state.lastUsage ?? noUsage(),
      ...pathData(spec),
    })
    .catch((e) => env.log.warn({ err: e }, 'agent_turn event not sent'))
  state.emitted = state.turn
}

function toolNamesOf(m: ChatMessage | undefined): string[] {
  if (!m || m.role !== 'assistant' || !m.tool_calls) return []
  return m.tool_calls.map((c) => (c.type === 'function' ? c.function.name : c.type))
}

/**
 * Runs the tool calls of the last answer that have no result yet (all at once). When some must
 * wait for a decision, the others' results are kept and the first waiting one is reported.
 */
async function runPending(
  spec: AgentSpec,
  env: AgentEnv,
  state: AgentState,
  tally: Tally,
  save: () => Promise<void>
) {
  const pending = state.pending as Pending
  const awaiting: Awaiting[] = []
  await Promise.all(
    pending.calls.map(async (call, index) => {
      if (pending.results[index] !== null) return
      const result = await runCall(spec, env, state, tally, call, index)
      if (result instanceof Awaiting) awaiting.push(result)
      else pending.results[index] = JSON.stringify(capped(result))
    })
  )
  if (awaiting.length) {
    state.children = Math.max(state.children, tally.children)
    await save()
    const first = awaiting.sort((a, b) => a.index - b.index)[0]
    throw new ToolApprovalNeeded(first.key, first.tool, first.args)
  }
  pending.calls.forEach((call, index) => {
    state.messages.push({
      role: 'tool',
      tool_call_id: call.id,
      content: pending.results[index] as string,
    })
  })
  state.toolCalls += pending.calls.length
  state.pending = undefined
  state.children = Math.max(state.children, tally.children)
}

async function runCall(
  spec: AgentSpec,
  env: AgentEnv,
  state: AgentState,
  tally: Tally,
  call: ToolCall,
  index: number
): Promise<unknown | Awaiting> {
  const refuse = async (code: string, message: string, details?: ErrorDetail[]) => {
    await env
      .emit(`${pathKey(spec)}#${state.turn}:call:${index}`, 'log', {
        level: 'warn',
        message: `tool call ${call.name} refused: ${message}`,
        tool: call.name.slice(0, 64),
        ...pathData(spec),
      })
      .catch(() => {})
    return { error: { code, message, ...(details ? { details } : {}) } }
  }
  if (!isToolName(call.name) || !spec.tools.includes(call.name))
    return refuse('TOOL_NOT_GRANTED', `"${call.name.slice(0, 64)}" is not a tool of this node`)
  let args: unknown
  try {
    args = JSON.parse(call.arguments || '{}')
  } catch {
    return refuse('INVALID_ARGUMENTS', 'the arguments are not valid JSON')
  }
  const invalid = schemaErrors(TOOLS[call.name].parameters, args)
  if (invalid.length)
    return refuse('INVALID_ARGUMENTS', 'the arguments do not match the tool schema', invalid)
  if (spec.approveTools.includes(call.name)) {
    const callKey = `${state.turn}:${[...spec.path, String(index)].join('.')}`
    const decision = state.decisions?.[callKey]
    if (!decision) return new Awaiting(callKey, call.name, args, index)
    if (decision.decision === 'reject')
      return {
        error: {
          code: 'TOOL_CALL_REJECTED',
          message: decision.comment ?? `${decision.decided_by ?? 'a human'} rejected this call`,
        },
      }
    const replaced = (decision.data as { arguments?: unknown } | null)?.arguments
    if (replaced !== undefined && JSON.stringify(replaced) !== JSON.stringify(args)) {
      const bad = schemaErrors(TOOLS[call.name].parameters, replaced)
      if (bad.length)
        return refuse(
          'INVALID_ARGUMENTS',
          'the approver’s arguments do not match the tool schema',
          bad
        )
      args = replaced
    }
  }
  const a = args as Record<string, any>
  const key = `${spec.scope}:${state.turn}:${[...spec.path, String(index)].join('.')}`
  try {
    switch (call.name) {
      case 'execute_pipeline': {
        const res = await env.actions.pipeline(a, spec.input, env.signal)
        if (res.tainted) state.tainted = true
        return res.value
      }
      case 'patch_workflow': {
        if (state.refusals >= MAX_PATCH_REFUSALS)
          return {
            error: {
              code: ErrorCode.PatchAttemptsExhausted,
              message: `${MAX_PATCH_REFUSALS} patches were refused; patch_workflow accepts no more from this node`,
            },
          }
        const answer = await env.actions.patch(
          { operations: a.operations, reason: a.reason },
          { idempotencyKey: key, tainted: state.tainted && !spec.trustToolOutput }
        )
        if (answer.ok) return answer.value
        state.refusals += 1
        return { error: answer.error, example: answer.example }
      }
      case 'search_tools':
        return await env.actions.searchTools(a.query)
      case 'openapi_action': {
        const res = await env.actions.openapi(a, { idempotencyKey: key, signal: env.signal })
        state.tainted = true
        return res
      }
      case 'delegate_to_agent':
        return await delegate(spec, env, state, tally, a as { instructions: string }, index)
    }
  } catch (e) {
    // A delegate's call that waits for a decision makes this call wait too.
    if (e instanceof ToolApprovalNeeded) return new Awaiting(e.key, e.tool, e.args, index)
    // A tool that fails is a result the model reads; a budget or abort is the node's end.
    if (e instanceof AgentError || env.signal.aborted) throw e
    const err = e as AobError
    return {
      error: {
        code: err.code ?? 'TOOL_FAILED',
        message: err.message,
        ...(err.details?.length ? { details: err.details } : {}),
      },
    }
  }
}

async function delegate(
  spec: AgentSpec,
  env: AgentEnv,
  state: AgentState,
  tally: Tally,
  args: { instructions: string; input?: unknown; tools?: string[] },
  index: number
): Promise<unknown> {
  if (spec.depth >= MAX_AGENT_DEPTH)
    return {
      error: {
        code: 'DEPTH_LIMIT',
        message: `agents go at most ${MAX_AGENT_DEPTH} levels deep`,
      },
    }
  const tools = (args.tools ?? spec.tools).filter(isToolName)
  const extra = tools.filter((t) => !spec.tools.includes(t))
  if (extra.length)
    return {
      error: {
        code: 'TOOL_NOT_GRANTED',
        message: `a delegate may use only your tools; not ${extra.join(', ')}`,
      },
    }
  const key = `${spec.key}/${state.turn}.${index}`
  const child = ((await env.checkpoints.load(key)) as AgentState | null) ?? null
  if (!child) {
    if (env.executionsBefore + tally.children + 1 > env.maxExecutions)
      return {
        error: {
          code: ErrorCode.SpawnLimit,
          message: `the run may start at most ${env.maxExecutions} agent executions (AOB_MAX_AGENTS_PER_RUN)`,
        },
      }
    tally.children += 1
    state.children = Math.max(state.children, tally.children)
  }
  const childSpec: AgentSpec = {
    ...spec,
    key,
    instructions: args.instructions,
    input: args.input ?? null,
    tools,
    budget:
      spec.budget === undefined ? undefined : Math.max(0, spec.budget - state.usage.total_tokens),
    outputSchema: undefined,
    depth: spec.depth + 1,
    path: [...spec.path, `${state.turn}.${index}`],
  }
  const childState = child?.v === 1 ? child : freshState(childSpec)
  if (env.decision)
    childState.decisions = { ...childState.decisions, [env.decision.key]: env.decision }
  const before = childState.usage
  try {
    const out = await loop(childSpec, env, childState, tally)
    state.usage = addUsage(state.usage, minus(out.usage, before))
    if (childState.tainted) state.tainted = true
    return out
  } catch (e) {
    if (e instanceof ToolApprovalNeeded) {
      state.usage = addUsage(state.usage, minus(childState.usage, before))
      throw e
    }
    if (e instanceof AgentError) {
      state.usage = addUsage(state.usage, minus(e.usage, before))
      if (e.code === ErrorCode.BudgetExceeded && spec.budget !== undefined) throw e
      return { error: { code: e.code, message: e.message } }
    }
    throw e
  }
}

function minus(a: Usage, b: Usage): Usage {
  return {
    prompt_tokens: a.prompt_tokens - b.prompt_tokens,
    completion_tokens: a.completion_tokens - b.completion_tokens,
    cached_tokens: a.cached_tokens - b.cached_tokens,
    total_tokens: a.total_tokens - b.total_tokens,
    llm_calls: a.llm_calls - b.llm_calls,
  }
}

function checkAnswer(
  spec: AgentSpec,
  content: string | null
): { ok: true; data?: unknown } | { ok: false; errors: ErrorDetail[] } {
  if (spec.outputSchema === undefined) return { ok: true }
  let data: unknown
  try {
    data = JSON.parse(content ?? '')
  } catch {
    return { ok: false, errors: [{ path: '/', message: 'the answer is not JSON' }] }
  }
  const errors = schemaErrors(spec.outputSchema, data)
  return errors.length ? { ok: false, errors } : { ok: true, data }
}

/** Large results reach the model as a preview. */
function capped(value: unknown): unknown {
  const json = JSON.stringify(value ?? null)
  if (json.length <= MAX_TOOL_RESULT_BYTES) return value ?? null
  return { truncated: true, total_bytes: json.length, preview: json.slice(0, PREVIEW_CHARS) }
}

const pathKey = (spec: AgentSpec) => (spec.path.length ? spec.path.join('/') : 'root')
const pathData = (spec: AgentSpec) => (spec.path.length ? { agent_path: spec.path } : {})

/**
 * The message catalogue: every message that crosses the bus, as a type and as the valibot
 * schema its consumer checks (a malformed message is logged, acked and dropped; it never
 * crashes or wedges a consumer). Topics and channels are named in `ports/bus.ts`; the verbs that
 * send and receive them live in `runs/lanes.ts`.
 * @module
 */
import * as v from 'valibot'
import type { ErrorData } from '../errors.ts'
import type { RunId } from '../ids.ts'
import { looseObject, looseOption, record, variant } from './schema.ts'

export type NodeStatusName =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'waiting'
  | 'cancelled'

/** The context templates and expressions see: `{ input, nodes: {id: {output, status}}, run }`. */
export interface ExpressionContext {
  input: unknown
  nodes: Record<string, { output: unknown; status: NodeStatusName }>
  run: { id: string; workflow_id: string }
}

/** A unit of work for the worker of `type`, published on `wf.tasks.<type>`. */
export interface Task {
  run_id: RunId
  node_id: string
  type: string
  /** The dispatch this task belongs to; only a completion of the node's current epoch counts. */
  epoch: number
  attempt: number
  iteration: number
  /** The node's config with every template rendered. */
  config: Record<string, unknown>
  timeout_ms?: number
  /** Expression context, for node types that evaluate expressions (transform, agent). */
  context?: ExpressionContext
  trace_id: string
  /** Agent tasks resumed after a tool-call approval: the decision. */
  resume?: import('../engine/state.ts').ToolDecision
  /** Agent tasks: the run's tokens used by agent nodes so far, and agent executions started. */
  agent?: { tokens_before: number; executions_before: number }
  /** Publish after this delay (retry backoff); not part of the message. */
  delay_ms?: number
}

/**
 * What a worker reports for one task: the node's output, its failure, or that the node now
 * waits for something outside the worker (a human decision): the task ends, the node stays
 * `waiting` until a transition resolves it.
 */
export type Outcome =
  | { kind: 'done'; output: unknown }
  | { kind: 'fail'; error: ErrorData }
  | { kind: 'wait'; reason: string; data?: unknown }

/** Published on `wf.completions` by the worker of a task. */
export interface CompletionSignal {
  run_id: string
  node_id: string
  epoch: number
  outcome: Outcome
  trace_id?: string
}

/** The kinds of transition a worker may ask a coordinator for (the request lane). */
export const REQUEST_KINDS = ['patch', 'emit', 'tool_get', 'tool_search', 'api_get'] as const
export type RequestKind = (typeof REQUEST_KINDS)[number]

/** Published on `wf.requests`; answered on the channel `reply.<id>`. */
export interface Request {
  /** Unique per logical request: a requester that retries uses the same id. */
  id: string
  kind: RequestKind
  run_id: string
  payload: unknown
  /** Who asks (e.g. `agent:<run_id>/<node_id>`). */
  principal?: string
}

export type Reply =
  | { id: string; ok: true; value: unknown }
  | {
      id: string
      ok: false
      error: { code: string; message: string; details?: { path: string; message: string }[] }
    }

// --- schemas ---

const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(200))
const Count = v.pipe(v.number(), v.integer(), v.minValue(0))

export const ErrorDataSchema = looseObject({
  message: v.string(),
  code: v.optional(v.string()),
  name: v.optional(v.string()),
  retryable: v.optional(v.boolean()),
  retry_after_ms: v.optional(v.pipe(v.number(), v.minValue(0))),
})

export const OutcomeSchema = variant('kind', [
  looseOption({ kind: v.literal('done'), output: v.unknown() }),
  looseOption({ kind: v.literal('fail'), error: ErrorDataSchema }),
  looseOption({
    kind: v.literal('wait'),
    reason: v.pipe(v.string(), v.maxLength(200)),
    data: v.optional(v.unknown()),
  }),
])

export const CompletionSchema = looseObject({
  run_id: v.pipe(v.string(), v.regex(/^run_[0-9a-f]{28}$/)),
  node_id: Id,
  epoch: Count,
  outcome: OutcomeSchema,
  trace_id: v.optional(v.string()),
})

export const TaskSchema = looseObject({
  run_id: v.pipe(v.string(), v.regex(/^run_[0-9a-f]{28}$/)),
  node_id: Id,
  type: Id,
  epoch: Count,
  attempt: Count,
  iteration: Count,
  config: record(v.string(), v.unknown()),
  timeout_ms: v.optional(Count),
  context: v.optional(v.unknown()),
  trace_id: v.string(),
})

export const RequestSchema = looseObject({
  id: Id,
  kind: v.picklist(REQUEST_KINDS),
  run_id: v.pipe(v.string(), v.regex(/^run_[0-9a-f]{28}$/)),
  payload: v.unknown(),
  principal: v.optional(v.pipe(v.string(), v.maxLength(200))),
})

export const ReplySchema = looseObject({
  id: Id,
  ok: v.boolean(),
  value: v.optional(v.unknown()),
  error: v.optional(v.unknown()),
})

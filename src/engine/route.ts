/**
 * Execution semantics (SPEC §3) as pure functions over a Draft: start, completion, skip,
 * joins with dead-path elimination, loops, retries, completion detection and cancel.
 * No I/O: the caller loads the state, runs one of these, and commits the transition.
 * @module
 */
import { AobError, ErrorCode, type ErrorData } from '../errors.ts'
import { evaluateExpression } from '../expr/expression.ts'
import { renderTemplates } from '../expr/template.ts'
import { dict, own } from '../model/dict.ts'
import { descendants, type IrEdge } from '../model/ir.ts'
import { KNOWN_NODE_TYPES } from '../model/node-configs.ts'
import { cancelApproval, openApproval, openToolApproval } from './approval-record.ts'
import { addNodeUsage, agentBudgetOf, usageOf } from './usage.ts'
import type { Draft } from './draft.ts'
import type { CompletionSignal, Task } from '../model/messages.ts'
import { isTerminalRun, type ToolDecision } from './state.ts'

type Resolution =
  | { status: 'succeeded'; output: unknown }
  | { status: 'failed'; error: ErrorData }
  | { status: 'skipped'; reason: string }

/** Types whose tasks carry the expression context (they evaluate expressions themselves). */
const CONTEXT_TYPES = new Set(['transform', 'agent'])

export async function startRun(d: Draft): Promise<void> {
  d.setRun({ status: 'running' })
  d.emit('run_started', undefined, {
    workflow_id: d.run.workflow_id,
    ir_version: d.run.ir_version,
    replay_of: d.run.replay_of,
  })
  for (const id of d.ir.starts) await activate(d, id)
  settle(d)
}

/** Applies a worker's completion. Returns false when the signal is stale or a duplicate. */
export async function applyCompletion(d: Draft, signal: CompletionSignal): Promise<boolean> {
  if (isTerminalRun(d.run.status)) return false
  const node = d.peek(signal.node_id)
  if (!node || node.status !== 'running' || node.epoch !== signal.epoch) return false
  const ir = own(d.ir.nodes, signal.node_id)
  if (!ir) return false
  const { outcome } = signal
  if (outcome.kind === 'wait' && ir.type === 'hitl') {
    // The task is over; the node waits on its approval until a decision or its timeout.
    if (!openApproval(d, signal.node_id, outcome.data))
      await resolve(d, signal.node_id, {
        status: 'failed',
        error: {
          code: ErrorCode.InvalidOutput,
          message: 'the hitl worker reported a wait without a valid approval (prompt, data)',
          retryable: false,
        },
      })
  } else if (outcome.kind === 'wait' && ir.type === 'agent') {
    // A tool call waits for a human: the node waits on its approval, then runs on (resumeAgent).
    if (!openToolApproval(d, signal.node_id, outcome.data))
      await resolve(d, signal.node_id, {
        status: 'failed',
        error: {
          code: ErrorCode.InvalidOutput,
          message: 'the agent worker reported a wait without a valid tool call',
          retryable: false,
        },
      })
  } else if (outcome.kind === 'wait') {
    // The task is over; the node waits (status `waiting`, same epoch) until resumeWaiting.
    d.node(signal.node_id).status = 'waiting'
    d.emit('log', signal.node_id, { level: 'info', message: `waiting: ${outcome.reason}` })
  } else if (outcome.kind === 'done') {
    if (ir.type === 'agent') recordUsage(d, signal.node_id, outcome)
    await resolve(d, signal.node_id, { status: 'succeeded', output: outcome.output ?? null })
  } else if (outcome.error.retryable !== false && node.attempts < ir.retry.max_attempts) {
    // Exponential backoff with up to 25% jitter (retries of many runs do not line up), never
    // sooner than the server's Retry-After.
    const backoff = Math.min(
      ir.retry.backoff_ms * 2 ** (node.attempts - 1),
      ir.retry.max_backoff_ms
    )
    const delay = Math.max(
      Math.round(backoff * (1 + Math.random() * 0.25)),
      outcome.error.retry_after_ms ?? 0
    )
    d.emit('log', signal.node_id, {
      level: 'warn',
      message: `attempt ${node.attempts} of ${ir.retry.max_attempts} failed: ${outcome.error.message}; retrying in ${delay} ms`,
    })
    await dispatch(d, signal.node_id, delay)
  } else {
    if (ir.type === 'agent') recordUsage(d, signal.node_id, outcome)
    await resolve(d, signal.node_id, { status: 'failed', error: outcome.error })
  }
  settle(d)
  return true
}

function recordUsage(d: Draft, nodeId: string, outcome: CompletionSignal['outcome']): void {
  const usage = usageOf(outcome)
  if (usage) d.node(nodeId).usage = addNodeUsage(d.peek(nodeId)?.usage, usage)
}

/**
 * Resolves a `waiting` node (its epoch must still be `epoch`): it succeeds with `output` or
 * fails with `error` (no retry: a decision is not an attempt), and the run routes on. Returns
 * false when the node is no longer waiting at that epoch.
 */
export async function resumeWaiting(
  d: Draft,
  nodeId: string,
  epoch: number,
  outcome: Exclude<CompletionSignal['outcome'], { kind: 'wait' }>
): Promise<boolean> {
  if (isTerminalRun(d.run.status)) return false
  const node = d.peek(nodeId)
  if (!node || node.status !== 'waiting' || node.epoch !== epoch) return false
  if (outcome.kind === 'done')
    await resolve(d, nodeId, { status: 'succeeded', output: outcome.output ?? null })
  else await resolve(d, nodeId, { status: 'failed', error: { ...outcome.error, retryable: false } })
  settle(d)
  return true
}

/**
 * A waiting agent node runs on with the decision on its tool call: a new task (same activation,
 * next epoch) carries it, and the agent resumes its conversation from the checkpoint.
 */
export async function resumeAgent(
  d: Draft,
  nodeId: string,
  epoch: number,
  decision: ToolDecision
): Promise<boolean> {
  if (isTerminalRun(d.run.status)) return false
  const node = d.peek(nodeId)
  if (!node || node.status !== 'waiting' || node.epoch !== epoch) return false
  const n = d.node(nodeId)
  n.status = 'running'
  n.epoch += 1
  n.resume = decision
  try {
    d.tasks.push(await taskFor(d, nodeId))
  } catch (e) {
    await resolve(d, nodeId, {
      status: 'failed',
      error: { message: (e as Error).message, code: ErrorCode.ExpressionError, retryable: false },
    })
  }
  settle(d)
  return true
}

export function cancelRun(d: Draft, reason?: string): void {
  if (isTerminalRun(d.run.status))
    throw new AobError(ErrorCode.RunFinished, `run ${d.run.id} already ${d.run.status}`)
  const now = d.now()
  for (const id of d.nodeIds()) {
    const status = d.peek(id)?.status
    if (status === 'waiting') cancelApproval(d, id)
    if (status === 'running' || status === 'waiting')
      Object.assign(d.node(id), { status: 'cancelled', finished_at: now })
  }
  d.setRun({ status: 'cancelled', finished_at: now })
  d.emit('run_cancelled', undefined, reason ? { reason } : {})
}

/**
 * Re-examines every pending node's join after a patch changed the graph, starts the nodes the
 * patch added without incoming edges, then settles. (A node that lost its incoming edges to a
 * patch is now unreachable: it stays pending.)
 */
export async function reconsiderPending(d: Draft, added: Set<string>): Promise<void> {
  for (const id of d.nodeIds()) {
    const n = d.peek(id)
    if (n?.status !== 'pending') continue
    if ((d.ir.in[id] ?? []).length > 0) await checkReady(d, id)
    else if (added.has(id)) await activate(d, id)
  }
  settle(d)
}

/** Ends the run when nothing is in flight. */
export function settle(d: Draft): void {
  if (isTerminalRun(d.run.status)) return
  const ids = d.nodeIds()
  if (ids.some((id) => d.peek(id)?.status === 'running')) {
    if (d.run.status === 'paused') d.setRun({ status: 'running' })
    return
  }
  if (ids.some((id) => d.peek(id)?.status === 'waiting') || d.run.pending_patches > 0) {
    if (d.run.status !== 'paused') d.setRun({ status: 'paused' })
    return
  }
  const now = d.now()
  if (d.run.error) {
    d.setRun({ status: 'failed', finished_at: now })
    d.emit('run_failed', undefined, { error: d.run.error })
    return
  }
  const output = dict<unknown>()
  for (const id of ids) {
    const n = d.peek(id)
    if (n?.status === 'succeeded' && !n.took) output[id] = n.output ?? null
  }
  d.setRun({ status: 'succeeded', output, finished_at: now })
  d.emit('run_completed', undefined, { output })
}

/** Starts a new activation of `id` (first run, join fired, or loop re-run). */
export async function activate(d: Draft, id: string): Promise<void> {
  const node = d.node(id)
  node.iteration += 1
  node.attempts = 0
  delete node.error
  const type = d.ir.nodes[id].type
  if (!KNOWN_NODE_TYPES.has(type)) {
    await resolve(d, id, { status: 'skipped', reason: `unknown node type "${type}"` })
    return
  }
  await dispatch(d, id, 0)
}

/** The task for the node's current epoch, its config rendered over the run's context. */
export async function taskFor(d: Draft, id: string): Promise<Task> {
  const node = d.peek(id)
  const ir = d.ir.nodes[id]
  if (!node || !ir) throw new Error(`[aob] [engine] unknown node "${id}"`)
  const context = d.context()
  const config = (await renderTemplates(ir.config, context)) as Record<string, unknown>
  const task: Task = {
    run_id: d.run.id,
    node_id: id,
    type: ir.type,
    epoch: node.epoch,
    attempt: node.attempts,
    iteration: node.iteration,
    config,
    trace_id: d.run.trace_id,
  }
  if (ir.timeout_ms !== undefined) task.timeout_ms = ir.timeout_ms
  if (CONTEXT_TYPES.has(ir.type)) task.context = context
  if (ir.type === 'agent') task.agent = agentBudgetOf(d)
  if (node.resume) task.resume = node.resume
  return task
}

// --- internal ---

async function dispatch(d: Draft, id: string, delayMs: number): Promise<void> {
  const node = d.node(id)
  node.attempts += 1
  node.epoch += 1
  node.status = 'running'
  if (node.attempts === 1) {
    node.started_at = d.now()
    delete node.finished_at
  }
  let task: Task
  try {
    task = await taskFor(d, id)
  } catch (e) {
    await resolve(d, id, {
      status: 'failed',
      error: { message: (e as Error).message, code: ErrorCode.ExpressionError, retryable: false },
    })
    return
  }
  if (delayMs > 0) task.delay_ms = delayMs
  d.tasks.push(task)
  if (node.attempts === 1) d.emit('node_started', id, { attempt: 1, iteration: node.iteration })
}

async function resolve(d: Draft, id: string, res: Resolution): Promise<void> {
  const node = d.node(id)
  const now = d.now()
  node.status = res.status
  delete node.resume
  delete node.emitted
  node.finished_at = now
  if (res.status === 'succeeded') {
    node.output = res.output
    delete node.output_ref
    d.emit('node_completed', id, {
      output: res.output,
      attempt: node.attempts,
      iteration: node.iteration,
      epoch: node.epoch,
      duration_ms: duration(node.started_at, now),
    })
  } else if (res.status === 'failed') {
    node.error = res.error
  } else {
    d.emit('node_skipped', id, { reason: res.reason })
  }

  const edges = (d.ir.out[id] ?? []).map((i) => d.ir.edges[i])
  const taken = new Map<IrEdge, boolean>()
  for (const e of edges) taken.set(e, await isTaken(d, e, res))

  if (res.status === 'failed') {
    const handled = edges.some((e) => e.on === 'error')
    d.emit('node_failed', id, {
      error: res.error,
      attempt: node.attempts,
      iteration: node.iteration,
      epoch: node.epoch,
      handled,
    })
    if (!handled && !d.run.error) d.setRun({ error: { ...res.error, node_id: id } })
  }

  const loopTargets: IrEdge[] = []
  for (const e of edges) {
    if (!e.loop || !taken.get(e)) continue
    const count = d.run.loops[e.key] ?? 0
    if (count < (e.max_iterations ?? 0)) {
      d.run.loops[e.key] = count + 1
      loopTargets.push(e)
    }
  }
  const region = descendants(
    d.ir,
    loopTargets.map((e) => e.to)
  )
  node.took = edges.filter((e) => taken.get(e) && (!e.loop || loopTargets.includes(e))).length

  for (const e of edges) {
    if (e.loop || region.has(e.to)) continue
    await deliver(d, e.to, e.key, taken.get(e) ? 'token' : 'dead')
  }
  for (const e of loopTargets) await restartRegion(d, e)
}

async function isTaken(d: Draft, e: IrEdge, res: Resolution): Promise<boolean> {
  if (res.status === 'skipped') return false
  if (res.status === 'failed') return e.on === 'error'
  if (e.on === 'error') return false
  if (e.on === 'approve' || e.on === 'reject') {
    const decision = (res.output as { decision?: unknown } | null)?.decision
    if (decision !== e.on) return false
  }
  if (e.when === undefined) return true
  try {
    const value = await evaluateExpression(e.when, d.context())
    return isTruthy(value)
  } catch (err) {
    d.emit('log', e.from, {
      level: 'error',
      message: `edge ${e.key}: when failed, edge not taken: ${(err as Error).message}`,
    })
    return false
  }
}

async function deliver(
  d: Draft,
  target: string,
  key: string,
  kind: 'token' | 'dead'
): Promise<void> {
  if (d.peek(target)?.status !== 'pending') return
  d.node(target).arrivals[key] = kind
  await checkReady(d, target)
}

async function checkReady(d: Draft, id: string): Promise<void> {
  const node = d.peek(id)
  if (!node || node.status !== 'pending') return
  const keys = (d.ir.in[id] ?? []).map((i) => d.ir.edges[i].key)
  if (keys.length === 0) return
  const arrived = keys.map((k) => node.arrivals[k])
  const anyToken = arrived.includes('token')
  if (d.ir.nodes[id].join === 'any' && anyToken) return activate(d, id)
  if (arrived.some((a) => a === undefined)) return
  if (anyToken) return activate(d, id)
  return resolve(d, id, { status: 'skipped', reason: 'no incoming edge delivered a token' })
}

async function restartRegion(d: Draft, edge: IrEdge): Promise<void> {
  const region = descendants(d.ir, [edge.to])
  for (const id of region) {
    const node = d.node(id)
    node.status = 'pending'
    for (const key of Object.keys(node.arrivals)) {
      if (region.has(key.slice(0, key.indexOf('->')))) delete node.arrivals[key]
    }
  }
  d.emit('log', edge.from, {
    level: 'info',
    message: `loop ${edge.key} taken (${d.run.loops[edge.key]} of ${edge.max_iterations}): re-running ${region.size} node(s)`,
  })
  await activate(d, edge.to)
}

function isTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0
  return Boolean(v)
}

function duration(start: string | undefined, end: string): number | null {
  return start ? Date.parse(end) - Date.parse(start) : null
}

/**
 * The coordinator: stateless. It consumes completion signals, loads the run's latest IR and
 * state, lets the engine route (one transition), commits it and dispatches the next tasks.
 * Any number may run; per-run transitions are serialised by the store's version check.
 * @module
 */
import { applyCompletion } from '../engine/route.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { jsonProblem } from '../model/json-bounds.ts'
import {
  CompletionSchema,
  RequestSchema,
  type CompletionSignal,
  type Request,
} from '../model/messages.ts'
import { TOPICS } from '../ports/bus.ts'
import { recoverIfBusFresh, redispatchRunning } from '../runs/recover.ts'
import { transact } from '../runs/transact.ts'
import { startConsumer, type Service } from '../worker/consumer.ts'
import { createApprovalTimeouts } from './approval-timeouts.ts'
import { answerRequest } from './requests.ts'

export interface CoordinatorOptions {
  concurrency?: number
  visibilityMs?: number
  /** How often to check whether the bus lost its contents (then in-flight work is rebuilt). */
  rebuildCheckMs?: number
  /**
   * A dispatch recorded as pending for longer than this is presumed lost (the process that
   * committed it died before dispatching) and done again by the sweep. Default: visibilityMs.
   */
  sweepAfterMs?: number
  /** How often to look for approvals whose timeout is due (default 1 s; SPEC: within a second). */
  timeoutSweepMs?: number
}

export async function startCoordinator(
  kernel: Kernel,
  opts: CoordinatorOptions = {}
): Promise<Service> {
  const log = kernel.log.child({ svc: 'coordinator' })
  // The bus is new (embedded: every start) or lost its queues (Redis restarted or flushed):
  // re-dispatch every running node from the store. One coordinator wins the claim.
  const rebuildIfFresh = () => recoverIfBusFresh(kernel)
  await rebuildIfFresh()
  const sweepAfterMs = opts.sweepAfterMs ?? opts.visibilityMs ?? 30_000
  const sweep = async () => {
    for (const id of await kernel.store.listDispatchPending(sweepAfterMs)) {
      const state = await kernel.store.loadRun(id)
      if (state) {
        const count = await redispatchRunning(kernel, state)
        log.warn(
          { run_id: id, tasks: count },
          'dispatched tasks a dead process had committed but not sent'
        )
      }
      await kernel.store.clearDispatchPending(id)
    }
  }
  const timeouts = createApprovalTimeouts(kernel)
  let sweepingTimeouts = false
  const sweepTimeouts = () => {
    if (sweepingTimeouts) return
    sweepingTimeouts = true
    timeouts
      .sweep()
      .catch((e) => log.warn({ err: e }, 'approval timeout sweep failed'))
      .finally(() => (sweepingTimeouts = false))
  }
  sweepTimeouts()
  const timeoutWatch = setInterval(sweepTimeouts, opts.timeoutSweepMs ?? 1_000)
  let checking = false
  let lastSweep = 0
  const watch = setInterval(
    () => {
      if (checking) return
      checking = true
      const now = Date.now()
      const sweepNow = now - lastSweep >= Math.min(5_000, sweepAfterMs)
      if (sweepNow) lastSweep = now
      rebuildIfFresh()
        .then(() => (sweepNow ? sweep() : undefined))
        .catch((e) => log.warn({ err: e }, 'bus check or sweep failed'))
        .finally(() => (checking = false))
    },
    Math.min(opts.rebuildCheckMs ?? 1_000, sweepAfterMs)
  )
  // One consumer name for both lanes: this process, in the coordinators' group of each topic.
  const member = {
    group: 'coordinator',
    consumer: `coordinator-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
    concurrency: opts.concurrency ?? 128,
    visibilityMs: opts.visibilityMs ?? 30_000,
  }
  const consumer = startConsumer<CompletionSignal>(kernel, {
    ...member,
    topic: TOPICS.completions,
    schema: CompletionSchema,
    async process({ msg: raw, deliveries }) {
      const started = performance.now()
      const msg = boundedSignal(raw, kernel.config.limits.maxJsonDepth)
      kernel.metrics.completions.inc({ outcome: msg.outcome.kind })
      try {
        const {
          value: applied,
          state,
          events,
        } = await transact(kernel, msg.run_id as RunId, (d) => applyCompletion(d, msg))
        if (msg.outcome.kind === 'wait') timeouts.watch(msg.run_id, events)
        if (!applied && deliveries > 1) {
          // A redelivered signal that no longer applies was committed before, and the
          // coordinator that committed it may have died before dispatching what followed (the
          // next nodes, or this node again: a loop or a retry gives it a new epoch). Dispatch
          // the run's running nodes again; only each one's current epoch can complete.
          await redispatchRunning(kernel, state)
        }
        kernel.metrics.routingDuration.observe((performance.now() - started) / 1000)
      } catch (e) {
        if (e instanceof AobError && e.code === ErrorCode.RunNotFound) {
          log.warn(
            { run_id: msg.run_id, node_id: msg.node_id, trace_id: msg.trace_id },
            'completion for an unknown run dropped'
          )
          return
        }
        throw e
      }
    },
  })
  // The request lane: workers asking for a run transition (the agent's patch_workflow).
  const requests = startConsumer<Request>(kernel, {
    ...member,
    topic: TOPICS.requests,
    schema: RequestSchema,
    process: async ({ msg }) => kernel.lanes.reply(await answerRequest(kernel, msg)),
  })
  return {
    name: 'coordinator',
    async stop() {
      clearInterval(watch)
      clearInterval(timeoutWatch)
      timeouts.stop()
      await Promise.all([consumer.stop(), requests.stop()])
    },
  }
}

/** An output out of bounds becomes the node's failure, as the worker runtime would report it. */
function boundedSignal(s: CompletionSignal, maxJsonDepth: number): CompletionSignal {
  const o = s.outcome
  if (o.kind === 'fail') return s
  const problem = jsonProblem(o.kind === 'done' ? o.output : o.data, maxJsonDepth)
  if (!problem) return s
  return {
    ...s,
    outcome: {
      kind: 'fail',
      error: {
        code: ErrorCode.InvalidOutput,
        message: `node output is out of bounds: ${problem.message}`,
        retryable: false,
      },
    },
  }
}

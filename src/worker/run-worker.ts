/**
 * The worker runtime: a worker is a handler for one node type consuming `wf.tasks.<type>`.
 * It runs each task with the node's timeout, reports the outcome as a completion signal and
 * acks the task. Handlers return the node's output or throw: TerminalError fails the node at
 * once; anything else is retried by the coordinator up to the node's max_attempts.
 * @module
 */
import { TaskSchema, type Outcome, type Task } from '../model/messages.ts'
import type { Metrics } from '../metrics.ts'
import type { GuardedFetch } from '../net/guarded-fetch.ts'
import { tracedFetch } from '../net/traced-fetch.ts'
import type { Lanes } from '../runs/lanes.ts'
import { AobError, ErrorCode, toErrorData } from '../errors.ts'
import type { Logger } from '../log.ts'
import { DEFAULT_MAX_JSON_DEPTH, jsonProblem } from '../model/json-bounds.ts'
import { TOPICS, type Bus } from '../ports/bus.ts'
import { startConsumer, type Service } from './consumer.ts'

export interface HandlerContext {
  signal: AbortSignal
  log: Logger
  /** `fetcher` for this task's outbound calls: the run's `traceparent` on each, counted. */
  traced(fetcher: GuardedFetch): GuardedFetch
}

export type Handler = (task: Task, ctx: HandlerContext) => Promise<unknown>

/**
 * What a handler returns to end its task without finishing the node: the node stays `waiting`
 * until a transition resolves it (a hitl node's approval). `data` goes to the coordinator.
 */
export class Wait {
  constructor(
    readonly reason: string,
    readonly data?: unknown
  ) {}
}

export interface WorkerOptions {
  type: string
  handler: Handler
  concurrency?: number
  visibilityMs?: number
  consumer?: string
}

export function startWorker(
  deps: { bus: Bus; lanes: Lanes; log: Logger; metrics?: Metrics },
  opts: WorkerOptions
): Service {
  const log = deps.log.child({ worker: opts.type })
  // The tasks in flight, aborted together when the consumer stops (one listener, not one each).
  const live = new Set<AbortController>()
  let listening = false
  return startConsumer<Task>(deps, {
    topic: TOPICS.tasks(opts.type),
    schema: TaskSchema,
    group: `workers.${opts.type}`,
    consumer: opts.consumer ?? `${opts.type}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
    concurrency: opts.concurrency ?? 64,
    visibilityMs: opts.visibilityMs ?? 30_000,
    async process({ msg: task }, stopping) {
      if (!listening) {
        listening = true
        stopping.addEventListener('abort', () => {
          for (const c of live) c.abort(stopping.reason)
        })
      }
      const controller = new AbortController()
      live.add(controller)
      const started = performance.now()
      const outcome = await execute(
        opts.handler,
        task,
        log,
        DEFAULT_MAX_JSON_DEPTH,
        controller,
        deps.metrics
      )
      live.delete(controller)
      deps.metrics?.nodeDuration.observe({ type: opts.type }, (performance.now() - started) / 1000)
      // Stopped mid-task: no completion; the task stays pending and is redelivered.
      if (stopping.aborted) return
      await deps.lanes.complete({
        run_id: task.run_id,
        node_id: task.node_id,
        epoch: task.epoch,
        outcome,
        trace_id: task.trace_id,
      })
    },
  })
}

/** Runs a handler under the task's timeout and turns its result into an Outcome. */
export async function execute(
  handler: Handler,
  task: Task,
  log: Logger,
  maxJsonDepth = DEFAULT_MAX_JSON_DEPTH,
  controller = new AbortController(),
  metrics?: Pick<Metrics, 'httpRequests'>
): Promise<Outcome> {
  let child: Logger | undefined
  const runLog = () =>
    (child ??= log.child({ run_id: task.run_id, node_id: task.node_id, trace_id: task.trace_id }))
  const debug = log.isLevelEnabled('debug')
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const work = handler(task, {
      signal: controller.signal,
      get log() {
        return runLog()
      },
      traced: (fetcher) => tracedFetch(fetcher, task.trace_id, metrics),
    })
    const output = task.timeout_ms
      ? await Promise.race([
          work,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              controller.abort()
              reject(new AobError(ErrorCode.Timeout, `node timed out after ${task.timeout_ms} ms`))
            }, task.timeout_ms)
          }),
        ])
      : await work
    if (debug)
      runLog().debug({ epoch: task.epoch, attempt: task.attempt, ok: true }, 'task executed')
    // An output no store could keep (too deep, NUL, lone surrogates) fails the node here, once,
    // rather than wedging every commit that would carry it.
    const problem = jsonProblem(output instanceof Wait ? output.data : output, maxJsonDepth)
    if (problem)
      return {
        kind: 'fail',
        error: {
          code: ErrorCode.InvalidOutput,
          message: `node output is out of bounds: ${problem.message}`,
          retryable: false,
        },
      }
    if (output instanceof Wait) return { kind: 'wait', reason: output.reason, data: output.data }
    return { kind: 'done', output: output === undefined ? null : output }
  } catch (e) {
    if (debug)
      runLog().debug(
        { epoch: task.epoch, attempt: task.attempt, ok: false, err: e },
        'task executed'
      )
    return { kind: 'fail', error: toErrorData(e) }
  } finally {
    clearTimeout(timer)
  }
}

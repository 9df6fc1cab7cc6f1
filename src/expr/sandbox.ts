/**
 * The expression sandbox: a small pool of Bun Workers for the expressions that are not cheap
 * enough to run inline (see functions.ts). The calling thread never waits on them: a job that
 * runs past its time bound (plus a grace), or while the process's memory has grown past the
 * cap since it started, is stopped by terminating its Worker; the pool starts a fresh one for
 * the next job. Created on first use; nothing runs at import.
 * @module
 */
import { bundledModuleUrl } from '../bundled-module.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { ExpressionBounds } from './evaluate-bounded.ts'
import type { SandboxReply, SandboxRequest } from './sandbox-worker.ts'

export interface SandboxOptions {
  /** Workers at most (jobs beyond wait their turn). */
  size: number
  /** Growth of the process's resident memory during a job past which the job is stopped. */
  memoryCapBytes: number
  /** Time past a job's own bound before its Worker is terminated. */
  graceMs: number
}

export const DEFAULT_SANDBOX: SandboxOptions = {
  size: 2,
  memoryCapBytes: 256 * 1024 * 1024,
  graceMs: 200,
}

export interface Sandbox {
  /** Evaluates `source` over `payload` (`{input, bindings}` as JSON text); resolves with JSON text. */
  evaluate(source: string, payload: string, bounds: ExpressionBounds): Promise<string | undefined>
  /** Jobs stopped for time or memory since creation. */
  readonly stopped: { time: number; memory: number }
  close(): void
}

interface Job {
  request: SandboxRequest
  resolve(json: string | undefined): void
  reject(e: Error): void
  slot?: Slot
  timer?: ReturnType<typeof setTimeout>
  rssAtStart?: number
}

interface Slot {
  worker: Worker
  job: Job | null
}

export function createSandbox(opts: SandboxOptions = DEFAULT_SANDBOX): Sandbox {
  const slots: Slot[] = []
  const queue: Job[] = []
  const stopped = { time: 0, memory: 0 }
  let nextId = 1
  let watchdog: ReturnType<typeof setInterval> | null = null
  let closed = false

  const spawn = (): Slot => {
    // In a binary the Worker's file is an extra entrypoint of the build (scripts/build.ts).
    const worker = new Worker(bundledModuleUrl('src/expr/sandbox-worker.ts'))
    worker.unref()
    const slot: Slot = { worker, job: null }
    worker.onmessage = (e: MessageEvent<SandboxReply>) => {
      const job = slot.job
      if (!job || job.request.id !== e.data.id) return
      finish(job)
      if (e.data.ok) job.resolve(e.data.json)
      else
        job.reject(
          new AobError(
            (e.data.code as ErrorCode | undefined) ?? ErrorCode.ExpressionError,
            e.data.message
          )
        )
      next()
    }
    worker.onerror = (e) => {
      const job = slot.job
      kill(slot)
      if (job)
        job.reject(
          new AobError(ErrorCode.ExpressionError, `expression sandbox failed: ${e.message}`)
        )
      next()
    }
    slots.push(slot)
    return slot
  }

  const kill = (slot: Slot) => {
    if (slot.job) finish(slot.job)
    slot.job = null
    const i = slots.indexOf(slot)
    if (i >= 0) slots.splice(i, 1)
    slot.worker.terminate()
  }

  const finish = (job: Job) => {
    clearTimeout(job.timer)
    if (job.slot) job.slot.job = null
    job.slot = undefined
    if (!slots.some((s) => s.job) && watchdog) {
      clearInterval(watchdog)
      watchdog = null
    }
  }

  const start = (job: Job, slot: Slot) => {
    slot.job = job
    job.slot = slot
    job.rssAtStart = process.memoryUsage.rss()
    const limit = job.request.bounds.timeoutMs + opts.graceMs
    job.timer = setTimeout(() => {
      stopped.time++
      kill(slot)
      job.reject(
        new AobError(
          ErrorCode.ExpressionError,
          `expression stopped: it ran past its bound of ${job.request.bounds.timeoutMs} ms`
        )
      )
      next()
    }, limit)
    if (!watchdog) {
      watchdog = setInterval(checkMemory, 25)
      watchdog.unref()
    }
    slot.worker.postMessage(job.request)
  }

  const checkMemory = () => {
    const running = slots.filter((s) => s.job)
    if (running.length === 0) return
    const base = Math.min(...running.map((s) => s.job?.rssAtStart ?? Infinity))
    if (process.memoryUsage.rss() - base <= opts.memoryCapBytes) return
    for (const slot of running) {
      const job = slot.job as Job
      stopped.memory++
      kill(slot)
      job.reject(
        new AobError(
          ErrorCode.ExpressionError,
          `expression stopped: it used more than ${opts.memoryCapBytes >> 20} MiB`
        )
      )
    }
    next()
  }

  const next = () => {
    while (queue.length > 0 && !closed) {
      const idle = slots.find((s) => !s.job) ?? (slots.length < opts.size ? spawn() : null)
      if (!idle) return
      start(queue.shift() as Job, idle)
    }
  }

  return {
    stopped,
    evaluate(source, payload, bounds) {
      if (closed)
        return Promise.reject(
          new AobError(ErrorCode.ExpressionError, 'expression sandbox is closed')
        )
      return new Promise((resolve, reject) => {
        queue.push({ request: { id: nextId++, source, payload, bounds }, resolve, reject })
        next()
      })
    },
    close() {
      closed = true
      for (const slot of [...slots]) kill(slot)
      for (const job of queue.splice(0))
        job.reject(new AobError(ErrorCode.ExpressionError, 'expression sandbox is closed'))
    },
  }
}

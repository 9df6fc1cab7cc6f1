/**
 * The built-in node types every deployment runs: noop, sleep and transform.
 * @module
 */
import { ErrorCode, TerminalError } from '../errors.ts'
import type { GuardedFetch } from '../net/guarded-fetch.ts'
import { runPipeline } from '../pipeline/pipeline.ts'
import type { Handler } from './run-worker.ts'

const noop: Handler = async (task) => task.config.output ?? null

const sleep: Handler = async (task, { signal }) => {
  const ms = Number(task.config.ms ?? 0)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
  return task.config.output ?? { slept_ms: ms }
}

const transform =
  (fetch?: GuardedFetch): Handler =>
  async (task, { signal, traced }) => {
    const ctx = task.context
    if (!ctx) throw new TerminalError(ErrorCode.Internal, 'transform task carries no context')
    const start = 'input' in task.config ? task.config.input : ctx.input
    // Pipeline errors say themselves whether a retry can help (TerminalError or RetryableError).
    return runPipeline(task.config.pipeline as Record<string, unknown>[], start, {
      input: ctx.input,
      nodes: ctx.nodes,
      run: ctx.run,
      signal,
      fetch: fetch && traced(fetch),
    })
  }

export const BUILTIN_TYPES = ['noop', 'sleep', 'transform'] as const

/** The built-in handlers; `fetch` (the SSRF-guarded client) serves http_request steps. */
export function builtinHandlers(fetch?: GuardedFetch): Record<string, Handler> {
  return { noop, sleep, transform: transform(fetch) }
}

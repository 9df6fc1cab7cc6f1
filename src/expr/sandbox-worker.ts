/**
 * The sandbox's Worker: evaluates one expression at a time under its bounds and answers with
 * the result as JSON text. The main thread terminates it when it overruns its time or memory
 * bound, so nothing here has to be interruptible.
 * @module
 */
import { AobError } from '../errors.ts'
import { compileBounded, evaluateBounded, type ExpressionBounds } from './evaluate-bounded.ts'

export interface SandboxRequest {
  id: number
  source: string
  /** `{input, bindings}` as JSON text: keys such as `__proto__` survive as plain data. */
  payload: string
  bounds: ExpressionBounds
}

export type SandboxReply =
  | { id: number; ok: true; json: string | undefined }
  | { id: number; ok: false; message: string; code?: string }

declare const self: Worker

self.onmessage = async (e: MessageEvent<SandboxRequest>) => {
  const { id, source, payload, bounds } = e.data
  try {
    const { input, bindings } = JSON.parse(payload) as {
      input: unknown
      bindings: Record<string, unknown>
    }
    const value = await evaluateBounded(
      compileBounded(source, bounds),
      source,
      input,
      bindings ?? {},
      bounds
    )
    self.postMessage({
      id,
      ok: true,
      json: value === undefined ? undefined : JSON.stringify(value),
    } satisfies SandboxReply)
  } catch (err) {
    const code = err instanceof AobError ? err.code : undefined
    self.postMessage({
      id,
      ok: false,
      message: (err as Error)?.message ?? String(err),
      code,
    } satisfies SandboxReply)
  }
}

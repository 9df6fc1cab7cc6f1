/**
 * The model, through the `openai` SDK only (any OpenAI-compatible server: `OPENAI_BASE_URL`).
 * The SDK's own retries are off: a 429, a 5xx, a timeout or a dropped connection is retried here,
 * inside the node, honouring `Retry-After` (capped), with exponential backoff and jitter, up to
 * `AOB_AGENT_MODEL_ATTEMPTS` attempts; each retry is reported (the loop turns it into a `log`
 * event). Completed calls are never repeated: the loop checkpoints each answer before acting on it.
 * @module
 */
import OpenAI, { APIConnectionError, APIError } from 'openai'
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions'
import type { AgentConfig } from '../config.ts'
import { ErrorCode, RetryableError, TerminalError } from '../errors.ts'

export type ChatMessage = ChatCompletionMessageParam

export interface ModelRequest {
  model: string
  messages: ChatMessage[]
  tools: ChatCompletionTool[]
  temperature?: number
}

export interface ToolCall {
  id: string
  name: string
  /** The raw JSON text the model wrote. */
  arguments: string
}

export interface ModelAnswer {
  content: string | null
  toolCalls: ToolCall[]
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number }
}

export interface ModelClient {
  chat(
    req: ModelRequest,
    opts: { signal?: AbortSignal; onRetry?(attempt: number, delayMs: number, why: string): void }
  ): Promise<ModelAnswer>
}

/** Longest wait a server's Retry-After may ask for, and the backoff's ceiling. */
const MAX_RETRY_WAIT_MS = 30_000
const BASE_BACKOFF_MS = 250

export function createModelClient(config: AgentConfig): ModelClient {
  const client = new OpenAI({
    baseURL: config.baseUrl,
    apiKey: config.apiKey,
    maxRetries: 0,
    timeout: config.modelTimeoutMs,
  })
  return {
    async chat(req, opts) {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await client.chat.completions.create(
            {
              model: req.model,
              messages: req.messages,
              ...(req.tools.length ? { tools: req.tools } : {}),
              ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            },
            { signal: opts.signal }
          )
          const message = res.choices[0]?.message
          const toolCalls: ToolCall[] = []
          for (const c of message?.tool_calls ?? []) {
            if (c.type !== 'function') continue
            toolCalls.push({ id: c.id, name: c.function.name, arguments: c.function.arguments })
          }
          return {
            content: message?.content ?? null,
            toolCalls,
            usage: {
              prompt_tokens: res.usage?.prompt_tokens ?? 0,
              completion_tokens: res.usage?.completion_tokens ?? 0,
              cached_tokens: res.usage?.prompt_tokens_details?.cached_tokens ?? 0,
            },
          }
        } catch (e) {
          if (opts.signal?.aborted) throw e
          const retry = retryable(e)
          if (!retry) throw terminal(e)
          if (attempt >= config.modelAttempts)
            throw new RetryableError(
              ErrorCode.ModelUnavailable,
              `the model server failed ${attempt} times; last: ${retry.why}`
            )
          const backoff = Math.min(BASE_BACKOFF_MS * 2 ** (attempt - 1), MAX_RETRY_WAIT_MS)
          const delay = Math.min(
            Math.max(retry.afterMs ?? 0, Math.round(backoff * (1 + Math.random() * 0.25))),
            MAX_RETRY_WAIT_MS
          )
          opts.onRetry?.(attempt, delay, retry.why)
          await Bun.sleep(delay)
        }
      }
    },
  }
}

function retryable(e: unknown): { why: string; afterMs?: number } | null {
  if (e instanceof APIConnectionError) return { why: e.message || 'connection failed' }
  if (e instanceof APIError && e.status !== undefined) {
    if (e.status !== 429 && e.status !== 408 && e.status < 500) return null
    return { why: `HTTP ${e.status}`, afterMs: retryAfterMs(e.headers) }
  }
  return null
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'))
  if (Number.isFinite(ms) && ms > 0) return ms
  const raw = headers?.get('retry-after')
  if (!raw) return undefined
  const s = Number(raw)
  if (Number.isFinite(s)) return Math.max(0, s * 1000)
  const at = Date.parse(raw)
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined
}

/** A 4xx from the model server will not change on a retry: the node fails. */
function terminal(e: unknown): Error {
  if (e instanceof APIError)
    return new TerminalError(
      ErrorCode.ModelError,
      `the model server refused the request (${e.status ?? 'no status'}): ${e.message}`
    )
  return e instanceof Error ? e : new Error(String(e))
}

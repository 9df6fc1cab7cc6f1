/**
 * An HTTP call as workflows describe it (method, templated URL, headers, query, JSON or text
 * body, expected statuses, response size cap), made through the guard. Shared by http nodes and
 * the http_request pipeline step. Output: {status, headers, body} with the body parsed when JSON.
 * @module
 */
import { ErrorCode, RetryableError, TerminalError } from '../errors.ts'
import type { GuardedFetch } from './guarded-fetch.ts'

export interface HttpCallSpec {
  method?: string
  url: string
  headers?: Record<string, string>
  query?: Record<string, string | number | boolean>
  body?: unknown
  response?: 'auto' | 'json' | 'text'
  expect_status?: number[]
  max_response_bytes?: number
  timeout_ms?: number
}

export interface HttpResult {
  status: number
  headers: Record<string, string>
  body: unknown
}

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024

export async function httpCall(
  fetcher: GuardedFetch,
  spec: HttpCallSpec,
  opts: { signal?: AbortSignal; idempotencyKey?: string } = {}
): Promise<HttpResult> {
  let url: URL
  try {
    url = new URL(spec.url)
  } catch {
    throw new TerminalError(
      ErrorCode.InvalidInput,
      `invalid URL ${JSON.stringify(spec.url).slice(0, 200)}`
    )
  }
  for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.append(k, String(v))
  const method = (spec.method ?? 'GET').toUpperCase()
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
    ...lowerKeys(spec.headers ?? {}),
  }
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey
  let body: string | undefined
  if (spec.body !== undefined && spec.body !== null && method !== 'GET') {
    if (typeof spec.body === 'string') body = spec.body
    else {
      body = JSON.stringify(spec.body)
      headers['content-type'] ??= 'application/json'
    }
  }
  const signals = [
    opts.signal,
    spec.timeout_ms ? AbortSignal.timeout(spec.timeout_ms) : undefined,
  ].filter(Boolean) as AbortSignal[]
  const signal = signals.length ? AbortSignal.any(signals) : undefined
  let res: Response
  try {
    res = (await fetcher(url.toString(), { method, headers, body, signal })).response
  } catch (e) {
    if (e instanceof TerminalError) throw e
    throw new RetryableError(
      ErrorCode.StepFailed,
      `${method} ${url.origin}${url.pathname} failed: ${(e as Error).message}`
    )
  }
  const text = await readCapped(res, spec.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES)
  const result: HttpResult = {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: parseBody(text, res.headers.get('content-type'), spec.response ?? 'auto'),
  }
  const ok = spec.expect_status
    ? spec.expect_status.includes(res.status)
    : res.status >= 200 && res.status < 300
  if (!ok) {
    const what = `${method} ${url.origin}${url.pathname} answered ${res.status}`
    if (res.status === 429 || res.status >= 500)
      throw new RetryableError(
        ErrorCode.StepFailed,
        what,
        retryAfterMs(res.headers.get('retry-after'))
      )
    throw new TerminalError(
      ErrorCode.StepFailed,
      `${what} (not retried: a ${res.status} will not change)`
    )
  }
  return result
}

/** The body as text, refusing more than `max` bytes (the stream is cancelled there). */
export async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > max) {
    await res.body?.cancel()
    throw new TerminalError(
      ErrorCode.StepFailed,
      `response is ${declared} bytes, over the cap of ${max}`
    )
  }
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += chunk.byteLength
    if (size > max)
      throw new TerminalError(ErrorCode.StepFailed, `response is over the cap of ${max} bytes`)
    chunks.push(chunk)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}

function parseBody(
  text: string,
  contentType: string | null,
  mode: 'auto' | 'json' | 'text'
): unknown {
  if (mode === 'text') return text
  const looksJson = /\bjson\b/i.test(contentType ?? '')
  if (mode === 'json' || looksJson) {
    try {
      return text === '' ? null : JSON.parse(text)
    } catch {
      if (mode === 'json')
        throw new TerminalError(ErrorCode.StepFailed, 'response body is not valid JSON')
    }
  }
  return text
}

/** Retry-After in seconds or as an HTTP date; capped at 10 minutes. */
export function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now()
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 600_000) : undefined
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]))
}

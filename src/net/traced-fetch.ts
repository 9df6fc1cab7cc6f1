/**
 * W3C Trace Context on outbound calls (SPEC §8): every request a task makes carries
 * `traceparent` with the run's trace id and a new span id, and is counted by status class.
 * @module
 */
import type { Metrics } from '../metrics.ts'
import type { GuardedFetch } from './guarded-fetch.ts'

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/**
 * The trace id of a `traceparent` header, or undefined when the header is absent or invalid
 * (then a new trace starts, as the W3C recommendation says).
 */
export function traceIdOf(header: string | null | undefined): string | undefined {
  if (!header || header.length > 512) return undefined
  const m = TRACEPARENT.exec(header.trim())
  if (!m) return undefined
  const [, version, traceId, spanId] = m
  if (version === 'ff' || (version === '00' && m[5] !== undefined)) return undefined
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  return traceId
}

export function traceparentOf(traceId: string): string {
  const span = crypto.getRandomValues(new Uint8Array(8))
  return `00-${traceId}-${Buffer.from(span).toString('hex')}-01`
}

/** `fetcher` sending the trace's `traceparent` and counting `http_requests_total{status_class}`. */
export function tracedFetch(
  fetcher: GuardedFetch,
  traceId: string | undefined,
  metrics?: Pick<Metrics, 'httpRequests'>
): GuardedFetch {
  return async (url, req = {}) => {
    const headers = { ...req.headers }
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'traceparent') delete headers[k]
    if (traceId) headers.traceparent = traceparentOf(traceId)
    try {
      const res = await fetcher(url, { ...req, headers })
      metrics?.httpRequests.inc({ status_class: `${Math.floor(res.response.status / 100)}xx` })
      return res
    } catch (e) {
      metrics?.httpRequests.inc({ status_class: 'error' })
      throw e
    }
  }
}

/**
 * The one way aob makes an outbound HTTP request (http nodes, the http_request primitive, the
 * agent's tools). For each hop: check the URL (policy.ts), resolve the host once, refuse if any
 * answer is not public, pin one validated address and connect to it (the certificate is still
 * checked against the host name), never through a proxy from the environment. Redirects are
 * followed by hand, at most 5, each hop checked again; credentials are dropped across origins.
 * The resolver and the connector are injectable, so tests never touch the network.
 * @module
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { blockedAddressReason, isAllowedAddress } from './addresses.ts'
import { checkUrl, type OutboundPolicy } from './policy.ts'
import { SsrfError } from './ssrf-error.ts'

export type Resolver = (host: string) => Promise<string[]>

export interface PinnedTarget {
  /** The URL with the host replaced by the pinned address. */
  url: string
  /** The address connected to. */
  address: string
  port: number
  /** The original host: the Host header and the name the certificate must match. */
  host: string
  hostHeader: string
  protocol: 'http:' | 'https:'
}

export type Connector = (target: PinnedTarget, init: RequestInit) => Promise<Response>

export interface GuardDeps {
  policy: OutboundPolicy
  resolver?: Resolver
  connector?: Connector
  maxRedirects?: number
  dnsTimeoutMs?: number
}

export interface GuardedRequest {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export type GuardedFetch = (
  url: string,
  req?: GuardedRequest
) => Promise<{ response: Response; url: string; address: string }>

/** Headers a caller (user or model) may not set. */
const FORBIDDEN_HEADER =
  /^(host|connection|transfer-encoding|upgrade|te|trailer|keep-alive|forwarded|proxy-.*|x-forwarded-.*|x-real-ip)$/i
const CREDENTIAL_HEADER = /^(authorization|cookie|proxy-authorization)$/i

export const defaultResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/** Bun's fetch to the pinned address: no proxy, no redirects, certificate checked against the host. */
export const defaultConnector: Connector = (target, init) =>
  fetch(target.url, {
    ...init,
    redirect: 'manual',
    proxy: false,
    // SNI and the certificate name are the host asked for (an IP literal is verified as itself).
    ...(isIP(target.host) ? {} : { tls: { serverName: target.host } }),
    headers: { ...(init.headers as Record<string, string>), host: target.hostHeader },
  } as RequestInit)

export function createGuardedFetch(deps: GuardDeps): GuardedFetch {
  const resolver = deps.resolver ?? defaultResolver
  const connector = deps.connector ?? defaultConnector
  const maxRedirects = deps.maxRedirects ?? 5

  const pin = async (raw: string): Promise<PinnedTarget> => {
    const checked = checkUrl(raw, deps.policy)
    let addresses: string[]
    if (checked.literal) addresses = [checked.literal]
    else {
      try {
        addresses = await withTimeout(resolver(checked.host), deps.dnsTimeoutMs ?? 2_000)
      } catch (e) {
        throw new SsrfError('dns', `cannot resolve "${checked.host}": ${(e as Error).message}`)
      }
    }
    if (addresses.length === 0) throw new SsrfError('dns', `"${checked.host}" has no address`)
    if (!checked.hostAllowed) {
      for (const address of addresses) {
        if (isAllowedAddress(deps.policy.allow, address)) continue
        const reason = blockedAddressReason(address)
        if (reason)
          throw new SsrfError('address', `"${checked.host}" resolves to ${address}: ${reason}`)
      }
    }
    const address = addresses[0]
    const { url } = checked
    const bracketed = address.includes(':') ? `[${address}]` : address
    const defaultPort = url.protocol === 'https:' ? 443 : 80
    const hostName = checked.host.includes(':') ? `[${checked.host}]` : checked.host
    return {
      url: `${url.protocol}//${bracketed}:${checked.port}${url.pathname}${url.search}`,
      address,
      port: checked.port,
      host: checked.host,
      hostHeader: checked.port === defaultPort ? hostName : `${hostName}:${checked.port}`,
      protocol: url.protocol as 'http:' | 'https:',
    }
  }

  return async (rawUrl, req = {}) => {
    let url = rawUrl
    let method = (req.method ?? 'GET').toUpperCase()
    let body = req.body
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers ?? {}))
      if (!FORBIDDEN_HEADER.test(k)) headers[k.toLowerCase()] = v
    for (let hop = 0; ; hop++) {
      const target = await pin(url)
      const response = await connector(target, { method, headers, body, signal: req.signal })
      const location = response.headers.get('location')
      if (![301, 302, 303, 307, 308].includes(response.status) || !location)
        return { response, url, address: target.address }
      await response.body?.cancel()
      if (hop >= maxRedirects)
        throw new SsrfError('redirect', `more than ${maxRedirects} redirects`)
      let next: URL
      try {
        next = new URL(location, url)
      } catch {
        throw new SsrfError(
          'redirect',
          `invalid Location ${JSON.stringify(location).slice(0, 200)}`
        )
      }
      if (next.origin !== new URL(url).origin)
        for (const k of Object.keys(headers)) if (CREDENTIAL_HEADER.test(k)) delete headers[k]
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        method = 'GET'
        body = undefined
        delete headers['content-type']
      }
      url = next.toString()
    }
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))
      ),
    ])
  } finally {
    clearTimeout(timer)
  }
}

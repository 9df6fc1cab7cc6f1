/**
 * What outbound requests may look like before any address is looked up: scheme, userinfo, host
 * names, ports and paths, checked on the WHATWG-normalised URL.
 * @module
 */
import { isIP } from 'node:net'
import type { AddressAllowList } from './addresses.ts'
import { isAllowedHost, parseAllowList } from './addresses.ts'
import { SsrfError } from './ssrf-error.ts'

export interface OutboundPolicy {
  allow: AddressAllowList
  ports: number[]
  /** Path prefixes refused after normalisation (lower case, percent-decoded). */
  deniedPaths: string[]
}

export const DEFAULT_PORTS = [80, 443]
export const DEFAULT_DENIED_PATHS = [
  '/.env',
  '/.git',
  '/.aws',
  '/admin',
  '/api/keys',
  '/server-status',
  '/actuator',
  '/latest/meta-data',
  '/computemetadata',
  '/metadata',
]
const DENIED_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa']
const DENIED_NAMES = ['localhost', 'metadata', 'metadata.google.internal', 'instance-data']

export function createPolicy(
  opts: { allow?: string[]; ports?: number[]; deniedPaths?: string[] } = {}
): OutboundPolicy {
  return {
    allow: parseAllowList(opts.allow ?? []),
    ports: opts.ports ?? DEFAULT_PORTS,
    deniedPaths: opts.deniedPaths ?? DEFAULT_DENIED_PATHS,
  }
}

export interface CheckedUrl {
  url: URL
  /** Host name (lower case, IDNA, no trailing dot) or IP literal without brackets. */
  host: string
  port: number
  /** Set when the host is an IP literal. */
  literal: string | null
  /** The operator allowed this host by name: address checks do not apply. */
  hostAllowed: boolean
}

/** Checks everything that can be checked before resolving; throws SsrfError naming the layer. */
export function checkUrl(raw: string | URL, policy: OutboundPolicy): CheckedUrl {
  let url: URL
  try {
    url = new URL(String(raw))
  } catch {
    throw new SsrfError(
      'protocol',
      `not a valid absolute URL: ${JSON.stringify(String(raw)).slice(0, 200)}`
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SsrfError('protocol', `scheme "${url.protocol}" is not http or https`)
  if (url.username || url.password)
    throw new SsrfError('userinfo', 'URLs with credentials (user:pass@) are refused')
  let host = url.hostname.toLowerCase()
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  if (host.endsWith('.')) host = host.slice(0, -1)
  if (!host) throw new SsrfError('host', 'empty host')
  const literal = isIP(host) ? host : null
  const hostAllowed = isAllowedHost(policy.allow, host)
  if (!literal && !hostAllowed) {
    if (host.endsWith('.'))
      throw new SsrfError('host', `host "${url.hostname}" has more than one trailing dot`)
    if (DENIED_NAMES.includes(host) || DENIED_SUFFIXES.some((s) => host.endsWith(s)))
      throw new SsrfError('host', `host "${host}" is an internal name`)
    if (!host.includes('.'))
      throw new SsrfError(
        'host',
        `single-label host "${host}" is refused (it would expand through search domains)`
      )
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  if (port === 0 || (!policy.ports.includes(port) && !hostAllowed))
    throw new SsrfError('port', `port ${port} is not allowed (allowed: ${policy.ports.join(', ')})`)
  const path = normalisePath(url.pathname)
  const denied = policy.deniedPaths.find((p) => path === p || path.startsWith(`${p}/`))
  if (denied) throw new SsrfError('path', `path "${url.pathname}" is a sensitive path (${denied})`)
  return { url, host, port, literal, hostAllowed }
}

function normalisePath(pathname: string): string {
  let path = pathname
  for (let i = 0; i < 3; i++) {
    try {
      const decoded = decodeURIComponent(path)
      if (decoded === path) break
      path = decoded
    } catch {
      break
    }
  }
  path = path
    .toLowerCase()
    .replaceAll('\\', '/')
    .replace(/\/{2,}/g, '/')
  const segments: string[] = []
  for (const seg of path.split('/')) {
    if (seg === '..') segments.pop()
    else if (seg !== '.' && seg !== '') segments.push(seg)
  }
  return `/${segments.join('/')}`
}

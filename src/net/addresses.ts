/**
 * Which IP addresses aob may connect to: only public unicast. ipaddr.js classifies the ranges;
 * on top of it we refuse what it calls unicast but is not: IPv4-compatible IPv6 (::/96) and
 * known cloud metadata endpoints. Every IPv4-mapped form is refused, whatever it maps to.
 * @module
 */
import ipaddr from 'ipaddr.js'

/** Metadata and platform endpoints that classify as public unicast. */
export const METADATA_ADDRESSES = new Set([
  '168.63.129.16',
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
])

/** Why `ip` must not be connected to, or null when it is a public unicast address. */
export function blockedAddressReason(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return 'not an IP address'
  const addr = ipaddr.parse(ip)
  const text = addr.toNormalizedString()
  if (METADATA_ADDRESSES.has(addr.toString()) || METADATA_ADDRESSES.has(text))
    return 'cloud metadata endpoint'
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6
    const range = v6.range()
    if (range === 'ipv4Mapped') return `IPv4-mapped address (${v6.toIPv4Address().toString()})`
    if (range !== 'unicast') return `${range} range`
    if (v6.parts.slice(0, 6).every((p) => p === 0)) return 'IPv4-compatible address (::/96)'
    // Only 2000::/3 is allocated for global unicast; the rest is reserved by IANA.
    if ((v6.parts[0] & 0xe000) !== 0x2000) return 'outside global unicast (2000::/3)'
    return null
  }
  const range = (addr as ipaddr.IPv4).range()
  return range === 'unicast' ? null : `${range} range`
}

export interface AddressAllowList {
  cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][]
  hosts: string[]
}

/** Parses AOB_HTTP_ALLOW entries: CIDRs or single IPs, and host names (`*.example.com` too). */
export function parseAllowList(entries: string[]): AddressAllowList {
  const list: AddressAllowList = { cidrs: [], hosts: [] }
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry.includes('/')) list.cidrs.push(ipaddr.parseCIDR(entry))
    else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.parse(entry)
      list.cidrs.push([addr, addr.kind() === 'ipv4' ? 32 : 128])
    } else list.hosts.push(entry.replace(/\.$/, ''))
  }
  return list
}

export function isAllowedAddress(list: AddressAllowList, ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false
  const addr = ipaddr.parse(ip)
  return list.cidrs.some(
    ([net, bits]) => net.kind() === addr.kind() && addr.match([net, bits] as never)
  )
}

export function isAllowedHost(list: AddressAllowList, host: string): boolean {
  return list.hosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h))
}

/**
 * Property: for generated URLs whose host is an IPv4 address in any notation or an IPv6
 * address, the guard lets a request through exactly when an independent reference (IANA
 * special-purpose tables, BigInt prefix arithmetic, no ipaddr.js) calls the address public.
 * The connector is a recording stub: no socket is ever opened.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { harness, outcome } from './guard-harness.ts'

const V4_NOT_PUBLIC = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '168.63.129.16/32',
]
const V6_PUBLIC = '2000::/3'
const V6_NOT_PUBLIC_INSIDE = [
  '2001::/32',
  '2001:2::/48',
  '2001:10::/28',
  '2001:20::/28',
  '2001:db8::/32',
  '2002::/16',
  '3fff::/20',
]

function v4ToBig(n: number): bigint {
  return BigInt(n >>> 0)
}
function parseV6(text: string): bigint {
  const [head, tail = ''] = text.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = text.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n)
}
function inCidr(value: bigint, cidr: string, bits: 32 | 128): boolean {
  const [base, len] = cidr.split('/')
  const baseValue =
    bits === 32
      ? base.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n)
      : parseV6(base)
  const shift = BigInt(bits - Number(len))
  return value >> shift === baseValue >> shift
}
const referenceV4Public = (n: number) => !V4_NOT_PUBLIC.some((c) => inCidr(v4ToBig(n), c, 32))
const referenceV6Public = (v: bigint) =>
  inCidr(v, V6_PUBLIC, 128) && !V6_NOT_PUBLIC_INSIDE.some((c) => inCidr(v, c, 128))

const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')
const notations = (n: number): string[] => [
  dotted(n),
  String(n >>> 0),
  `0x${(n >>> 0).toString(16)}`,
  [24, 16, 8, 0].map((s) => `0${((n >>> s) & 255).toString(8)}`).join('.'),
  `${(n >>> 24) & 255}.${n & 0xffffff}`,
]

// Addresses near the interesting prefixes, and anywhere.
const v4 = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(...V4_NOT_PUBLIC).chain((c) => {
    const [base, len] = c.split('/')
    const b = base.split('.').reduce((a, o) => a * 256 + Number(o), 0)
    const size = 2 ** (32 - Number(len))
    return fc.integer({ min: -3, max: size + 2 }).map((off) => (b + off + 2 ** 32) % 2 ** 32)
  })
)
const v6 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  fc
    .constantFrom(
      '2000::',
      '2001::',
      '2001:db8::',
      '2002::',
      '2606:4700::',
      '64:ff9b::',
      '::',
      '::ffff:0:0',
      'fc00::',
      'fe80::',
      'ff00::',
      '3fff::',
      '2001:20::'
    )
    .chain((p) => fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }).map((low) => parseV6(p) | low))
)
const v6Text = (v: bigint) =>
  Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(
    ':'
  )

test('IPv4 in any notation: blocked exactly when the reference says not public', async () => {
  await fc.assert(
    fc.asyncProperty(v4, fc.nat(4), async (n, which) => {
      const h = harness({})
      const host = notations(n)[which]
      const res = await outcome(h, `http://${host}/`)
      const pub = referenceV4Public(n)
      expect({ host, address: dotted(n), allowed: !res.blocked }).toEqual({
        host,
        address: dotted(n),
        allowed: pub,
      })
      expect(h.calls.length).toBe(pub ? 1 : 0)
    }),
    { numRuns: 3000 }
  )
})

test('IPv6: blocked exactly when the reference says not public', async () => {
  await fc.assert(
    fc.asyncProperty(v6, async (v) => {
      const h = harness({})
      const res = await outcome(h, `http://[${v6Text(v)}]/`)
      const pub = referenceV6Public(v)
      expect({ address: v6Text(v), allowed: !res.blocked }).toEqual({
        address: v6Text(v),
        allowed: pub,
      })
      expect(h.calls.length).toBe(pub ? 1 : 0)
    }),
    { numRuns: 3000 }
  )
})

test('names resolving to generated answers: allowed only when every answer is public', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(v4, { minLength: 1, maxLength: 4 }), async (answers) => {
      const h = harness({ dns: { 'gen.example.com': answers.map(dotted) } })
      const res = await outcome(h, 'http://gen.example.com/')
      expect(!res.blocked).toBe(answers.every(referenceV4Public))
      expect(h.calls.length).toBe(res.blocked ? 0 : 1)
    }),
    { numRuns: 1000 }
  )
})

/**
 * The SSRF corpus: inputs that must be blocked (with zero connector calls to them) and inputs
 * that must be allowed (pinned to a validated address, served by a loopback test server).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { harness, outcome, type Dns } from './guard-harness.ts'

const PUBLIC_V4 = '93.184.216.34'
const PUBLIC_V6 = '2606:4700:4700::1111'

const BLOCKED_URLS: [string, string][] = [
  // protocol
  ...[
    'file:///etc/passwd',
    'ftp://example.com/',
    'gopher://example.com:70/_x',
    'dict://example.com:11211/stat',
    'ldap://example.com/',
    'jar:http://example.com/x.jar!/',
    'data:text/plain,hi',
    'javascript:alert(1)',
    'ws://example.com/',
    'netdoc:///etc/passwd',
    'sftp://example.com/',
    'not a url',
    '//example.com/x',
  ].map((u) => [u, 'protocol'] as [string, string]),
  // userinfo
  ...[
    'http://user@example.com/',
    'http://user:pass@example.com/',
    'http://example.com@127.0.0.1/',
    'http://evil.com:80@example.com/',
    'http://user:@example.com/',
  ].map((u) => [u, 'userinfo'] as [string, string]),
  // host names
  ...[
    'http://localhost/',
    'http://LOCALHOST/',
    'http://localhost./',
    'http://LocalHost.:80/',
    'http://ｌｏｃａｌｈｏｓｔ/',
    'http://foo.localhost/',
    'http://a.b.localhost./',
    'http://printer.local/',
    'http://metadata.google.internal/',
    'http://db.internal/',
    'http://host.localdomain/',
    'http://router.home.arpa/',
    'http://metadata/',
    'http://intranet/',
    'http://instance-data/',
    'http://example.com../',
  ].map((u) => [u, 'host'] as [string, string]),
  // ports
  ...[
    'http://example.com:22/',
    'http://example.com:25/',
    'http://example.com:6379/',
    'http://example.com:5432/',
    'http://example.com:0/',
    'http://example.com:8080/',
    'https://example.com:11211/',
    'http://example.com:9200/',
    'http://example.com:65535/',
  ].map((u) => [u, 'port'] as [string, string]),
  // paths (after normalisation)
  ...[
    'http://example.com/.env',
    'http://example.com/.git/config',
    'http://example.com/admin',
    'http://example.com/ADMIN/users',
    'http://example.com/%61dmin',
    'http://example.com/x/../admin',
    'http://example.com/%2e%2e/admin',
    'http://example.com//admin',
    'http://example.com/x/..%2fadmin',
    'http://example.com/api/keys',
    'http://example.com/latest/meta-data/',
    'http://example.com/computeMetadata/v1/',
    'http://example.com/server-status',
    'http://example.com/actuator/env',
    'http://example.com/.aws/credentials',
  ].map((u) => [u, 'path'] as [string, string]),
  // IPv4 literals in every notation
  ...[
    '127.0.0.1',
    '127.1',
    '127.0.1',
    '2130706433',
    '0x7f000001',
    '0x7f.0.0.1',
    '0177.0.0.1',
    '017700000001',
    '127.255.255.254',
    '0',
    '0.0.0.0',
    '0x0',
    '10.0.0.1',
    '10.255.255.255',
    '012.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '192.168.1.1',
    '0xc0a80101',
    '3232235777',
    '169.254.0.1',
    '169.254.169.254',
    '0xa9fea9fe',
    '2852039166',
    '169.254.170.2',
    '100.64.0.1',
    '100.127.255.254',
    '100.100.100.200',
    '192.0.0.1',
    '192.0.0.192',
    '192.0.2.1',
    '198.18.0.1',
    '198.51.100.1',
    '203.0.113.1',
    '240.0.0.1',
    '255.255.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '168.63.129.16',
    '192.88.99.1',
  ].map((h) => [`http://${h}/`, 'address'] as [string, string]),
  // IPv6 literals, mapped, compatible, NAT64, 6to4, Teredo, ULA, link-local, multicast, reserved
  ...[
    '::1',
    '0:0:0:0:0:0:0:1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:8.8.8.8',
    '::127.0.0.1',
    '::7f00:1',
    '::8.8.8.8',
    '64:ff9b::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::808:808',
    '2002:7f00:1::',
    '2002:a9fe:a9fe::1',
    '2001::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    'fe80::1',
    'fc00::1',
    'fd00::1',
    'fd00:ec2::254',
    'ff02::1',
    '100::1',
    '2001:db8::1',
    '::ffff:0:7f00:1',
    '4000::1',
  ].map((h) => [`http://[${h}]/`, 'address'] as [string, string]),
]

const DNS: Dns = {
  'example.com': [PUBLIC_V4],
  'internal.example.com': ['10.0.0.5'],
  'mixed.example.com': [PUBLIC_V4, '127.0.0.1'],
  'mixed6.example.com': [PUBLIC_V6, '::1'],
  'private-last.example.com': [PUBLIC_V4, PUBLIC_V4, '192.168.1.10'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  'localtest.me': ['127.0.0.1'],
  'meta.example.com': ['169.254.169.254'],
  'mapped.example.com': ['::ffff:127.0.0.1'],
  'nat64.example.com': ['64:ff9b::a00:1'],
  'cgnat.example.com': ['100.64.1.1'],
  'empty.example.com': [],
}
const BLOCKED_BY_DNS: [string, string][] = [
  ['http://internal.example.com/', 'address'],
  ['http://mixed.example.com/', 'address'],
  ['http://mixed6.example.com/', 'address'],
  ['http://private-last.example.com/', 'address'],
  ['http://127.0.0.1.nip.io/', 'address'],
  ['http://localtest.me/', 'address'],
  ['http://meta.example.com/latest', 'address'],
  ['http://mapped.example.com/', 'address'],
  ['http://nat64.example.com/', 'address'],
  ['http://cgnat.example.com/', 'address'],
  ['http://empty.example.com/', 'dns'],
  ['http://nxdomain.example.com/', 'dns'],
]

const REDIRECT_TARGETS = [
  'http://127.0.0.1/',
  'http://localhost/',
  'file:///etc/passwd',
  'http://[::1]/',
  'http://169.254.169.254/latest/meta-data',
  'gopher://example.com/',
  'http://10.0.0.1/',
  'http://internal.example.com/',
  'http://[::ffff:7f00:1]/',
  'http://2130706433/',
  'http://example.com:6379/',
  'http://example.com/.env',
]

describe('SSRF guard: blocked inputs never reach the connector', () => {
  const cases = [...BLOCKED_URLS, ...BLOCKED_BY_DNS]
  test(`the corpus has at least 120 blocked inputs (${cases.length + REDIRECT_TARGETS.length + 3})`, () => {
    expect(cases.length + REDIRECT_TARGETS.length + 3).toBeGreaterThanOrEqual(120)
  })

  for (const [url, layer] of cases) {
    test(`${url} → ${layer}`, async () => {
      const h = harness({ dns: DNS })
      const res = await outcome(h, url)
      expect({ url, ...res, message: undefined }).toEqual({
        url,
        blocked: true,
        layer,
        message: undefined,
      })
      expect(h.calls).toEqual([])
    })
  }

  for (const target of REDIRECT_TARGETS) {
    test(`a redirect to ${target} is blocked`, async () => {
      const h = harness({
        dns: DNS,
        respond: () => new Response(null, { status: 302, headers: { location: target } }),
      })
      const res = await outcome(h, 'http://example.com/start')
      expect(res.blocked).toBe(true)
      expect(h.calls.map((c) => c.address)).toEqual([PUBLIC_V4]) // only the first, allowed hop
    })
  }

  test('more than 5 redirects are refused', async () => {
    const h = harness({
      dns: DNS,
      respond: (t) =>
        new Response(null, {
          status: 307,
          headers: { location: `http://example.com/hop${Math.random()}` },
        }),
    })
    const res = await outcome(h, 'http://example.com/')
    expect(res).toMatchObject({ blocked: true, layer: 'redirect' })
    expect(h.calls.length).toBe(6)
  })

  test('DNS rebinding between resolutions: public first, private on the redirect hop', async () => {
    const h = harness({
      dns: { 'rebind.example.com': (n) => (n === 1 ? [PUBLIC_V4] : ['127.0.0.1']) },
      respond: () => new Response(null, { status: 302, headers: { location: '/again' } }),
    })
    const res = await outcome(h, 'http://rebind.example.com/')
    expect(res).toMatchObject({ blocked: true, layer: 'address' })
    expect(h.calls.map((c) => c.address)).toEqual([PUBLIC_V4])
    expect(h.resolutions).toEqual(['rebind.example.com', 'rebind.example.com'])
  })

  test('the address connected to is the one validated: resolved once per hop, pinned', async () => {
    const h = harness({
      dns: { 'rebind2.example.com': (n) => (n === 1 ? [PUBLIC_V4] : ['127.0.0.1']) },
    })
    await h.fetch('http://rebind2.example.com/x')
    expect(h.resolutions).toEqual(['rebind2.example.com'])
    expect(h.calls[0]).toMatchObject({
      address: PUBLIC_V4,
      url: `http://${PUBLIC_V4}:80/x`,
      hostHeader: 'rebind2.example.com',
      host: 'rebind2.example.com',
    })
  })

  test('a blocked error names its layer in a clear message', async () => {
    const res = await outcome(harness({ dns: DNS }), 'http://internal.example.com/')
    expect(res.message).toBe(
      'request blocked by the SSRF guard (address): "internal.example.com" resolves to 10.0.0.5: private range'
    )
  })
})

describe('SSRF guard: allowed inputs are pinned and served', () => {
  let server: ReturnType<typeof Bun.serve>
  const seen: { host: string | null; path: string; auth: string | null; method: string }[] = []
  beforeAll(() => {
    server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        const u = new URL(req.url)
        seen.push({
          host: req.headers.get('host'),
          path: u.pathname + u.search,
          auth: req.headers.get('authorization'),
          method: req.method,
        })
        if (u.pathname === '/redirect-out')
          return new Response(null, {
            status: 302,
            headers: { location: 'https://other.example.org/landing' },
          })
        if (u.pathname === '/see-other')
          return new Response(null, { status: 303, headers: { location: '/landing' } })
        return Response.json({ ok: true, host: req.headers.get('host'), path: u.pathname })
      },
    })
  })
  afterAll(() => server.stop(true))

  // The connector maps every pinned address to the loopback test server: it records the target,
  // then connects to 127.0.0.1 only.
  const toTestServer = (t: { url: string; hostHeader: string }, init: RequestInit) => {
    const u = new URL(t.url)
    return fetch(`http://127.0.0.1:${server.port}${u.pathname}${u.search}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), host: t.hostHeader },
    })
  }
  const dns: Dns = {
    'example.com': [PUBLIC_V4],
    'api.github.com': ['140.82.112.6'],
    'v6.example.net': [PUBLIC_V6],
    'dual.example.net': [PUBLIC_V4, PUBLIC_V6],
    'xn--mnchen-3ya.de': ['81.169.145.70'],
    'other.example.org': ['151.101.1.69'],
    'intranet.corp.example': ['10.1.2.3'],
  }

  const ALLOWED: [string, string][] = [
    ['http://example.com/', PUBLIC_V4],
    ['https://example.com/', PUBLIC_V4],
    ['http://example.com:80/path', PUBLIC_V4],
    ['https://example.com:443/api/v1/users?limit=5', PUBLIC_V4],
    ['http://EXAMPLE.com/Case', PUBLIC_V4],
    ['http://example.com./trailing-dot', PUBLIC_V4],
    ['http://api.github.com/repos/x/y', '140.82.112.6'],
    ['http://v6.example.net/', PUBLIC_V6],
    ['http://dual.example.net/', PUBLIC_V4],
    ['http://münchen.de/', '81.169.145.70'],
    ['http://example.com/admin-panel', PUBLIC_V4],
    ['http://example.com/administrator.html', PUBLIC_V4],
    ['http://example.com/envelope', PUBLIC_V4],
    ['http://8.8.8.8/', '8.8.8.8'],
    ['http://1.1.1.1/dns-query', '1.1.1.1'],
    ['http://[2001:4860:4860::8888]/', '2001:4860:4860::8888'],
    ['http://[2606:4700:4700::1111]/x', '2606:4700:4700::1111'],
    ['http://example.com/a%20b', PUBLIC_V4],
    ['http://example.com/redirect-out', PUBLIC_V4],
    ['http://example.com/see-other', PUBLIC_V4],
    ['http://example.com/search?q=127.0.0.1', PUBLIC_V4],
    ['http://example.com/#frag', PUBLIC_V4],
  ]

  test(`the corpus has at least 20 allowed inputs (${ALLOWED.length + 3})`, () =>
    expect(ALLOWED.length + 3).toBeGreaterThanOrEqual(20))

  for (const [url, address] of ALLOWED) {
    test(`${url} → ${address}`, async () => {
      const h = harness({ dns, respond: toTestServer })
      const { response, address: used } = await h.fetch(url, {
        headers: { authorization: 'Bearer secret' },
      })
      expect(response.status).toBe(200)
      expect(used === address || h.calls[0].address === address).toBe(true)
      expect(h.calls.every((c) => c.address !== '127.0.0.1')).toBe(true)
    })
  }

  test('credentials are dropped on a cross-origin redirect, kept on the same origin', async () => {
    seen.length = 0
    const h = harness({ dns, respond: toTestServer })
    await h.fetch('http://example.com/redirect-out', {
      headers: { authorization: 'Bearer secret', cookie: 'a=b' },
    })
    expect(seen.map((s) => [s.path, s.auth])).toEqual([
      ['/redirect-out', 'Bearer secret'],
      ['/landing', null],
    ])
    expect(h.calls[1]).toMatchObject({
      host: 'other.example.org',
      address: '151.101.1.69',
      protocol: 'https:',
    })
    seen.length = 0
    await h.fetch('http://example.com/see-other', {
      method: 'POST',
      body: '{}',
      headers: { authorization: 'Bearer secret' },
    })
    expect(seen.map((s) => [s.method, s.path, s.auth])).toEqual([
      ['POST', '/see-other', 'Bearer secret'],
      ['GET', '/landing', 'Bearer secret'],
    ])
  })

  test('AOB_HTTP_ALLOW: an allowed CIDR or host reaches a private address; others stay blocked', async () => {
    const byCidr = harness({ dns, allow: ['10.0.0.0/8'], respond: toTestServer })
    expect((await byCidr.fetch('http://intranet.corp.example/')).response.status).toBe(200)
    expect((await byCidr.fetch('http://10.9.9.9/')).response.status).toBe(200)
    expect((await outcome(byCidr, 'http://192.168.1.1/')).blocked).toBe(true)
    const byHost = harness({ dns, allow: ['*.corp.example'], respond: toTestServer })
    expect((await byHost.fetch('http://intranet.corp.example/')).response.status).toBe(200)
    expect((await outcome(byHost, 'http://internal.example.com/')).blocked).toBe(true)
  })

  test('forbidden request headers (Host, Proxy-*, X-Forwarded-*) are never sent from config', async () => {
    const h = harness({ dns, respond: (t, init) => Response.json({ headers: init.headers }) })
    const { response } = await h.fetch('http://example.com/', {
      headers: {
        host: 'evil',
        'proxy-authorization': 'x',
        'x-forwarded-for': '127.0.0.1',
        accept: 'text/plain',
      },
    })
    expect(((await response.json()) as any).headers).toEqual({ accept: 'text/plain' })
  })
})

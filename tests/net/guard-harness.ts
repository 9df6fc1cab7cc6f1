/**
 * A guard wired to a scripted resolver and a recording connector: nothing here opens a socket
 * to anything but the loopback test server, and only for requests the guard let through.
 */
import { createGuardedFetch, type PinnedTarget } from '../../src/net/guarded-fetch.ts'
import { createPolicy } from '../../src/net/policy.ts'

export interface Harness {
  fetch: ReturnType<typeof createGuardedFetch>
  calls: PinnedTarget[]
  resolutions: string[]
}

/** DNS as scripted: a name maps to its answers, or to a function of the call count (rebinding). */
export type Dns = Record<string, string[] | ((call: number) => string[])>

export function harness(
  opts: {
    dns?: Dns
    allow?: string[]
    ports?: number[]
    respond?: (t: PinnedTarget, init: RequestInit) => Response | Promise<Response>
  } = {}
): Harness {
  const calls: PinnedTarget[] = []
  const resolutions: string[] = []
  const counts = new Map<string, number>()
  const fetch = createGuardedFetch({
    policy: createPolicy({ allow: opts.allow, ports: opts.ports }),
    resolver: async (host) => {
      resolutions.push(host)
      const entry = opts.dns?.[host]
      if (!entry) throw new Error(`NXDOMAIN ${host}`)
      const n = (counts.get(host) ?? 0) + 1
      counts.set(host, n)
      return typeof entry === 'function' ? entry(n) : entry
    },
    connector: async (target, init) => {
      calls.push(target)
      return opts.respond ? opts.respond(target, init) : new Response('ok', { status: 200 })
    },
  })
  return { fetch, calls, resolutions }
}

export async function outcome(
  h: Harness,
  url: string,
  init?: Parameters<Harness['fetch']>[1]
): Promise<{ blocked: boolean; layer?: string; message?: string }> {
  try {
    await h.fetch(url, init)
    return { blocked: false }
  } catch (e) {
    const err = e as { name: string; layer?: string; message: string }
    if (err.name !== 'SsrfError') throw e
    return { blocked: true, layer: err.layer, message: err.message }
  }
}

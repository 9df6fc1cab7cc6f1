/**
 * Bearer-token auth with roles. Tokens are kept as SHA-256 digests and looked up by digest, so a
 * guess costs the same whatever it shares with a real token.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { Role, TokenGrant } from '../config.ts'
import { AobError, ErrorCode } from '../errors.ts'

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 }

/** Who makes a request: their principal name and role (SPEC §4). */
export interface Principal {
  name: string
  role: Role
}

export type AuthEnv = { Variables: { role: Role; principal: Principal } }

export function bearerAuth(grants: TokenGrant[]): MiddlewareHandler<AuthEnv> {
  const byDigest = new Map<string, Principal>(
    grants.map((g) => [digest(g.token), { name: g.principal, role: g.role }])
  )
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const token =
      match?.[1] ?? (c.req.path.endsWith('/events/stream') ? c.req.query('token') : undefined)
    if (!token)
      throw new AobError(
        ErrorCode.Unauthorized,
        'missing bearer token (Authorization: Bearer <token>)'
      )
    const principal = byDigest.get(digest(token))
    if (!principal) throw new AobError(ErrorCode.Unauthorized, 'invalid token')
    c.set('role', principal.role)
    c.set('principal', principal)
    await next()
  }
}

/** Requires at least `role` (viewer < operator < admin). */
export function requireRole(role: Role): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const have = c.get('role')
    if (RANK[have] < RANK[role])
      throw new AobError(
        ErrorCode.Forbidden,
        `this action needs the ${role} role; the token has ${have}`
      )
    await next()
  }
}

function digest(token: string): string {
  return new Bun.CryptoHasher('sha256').update(token).digest('hex')
}

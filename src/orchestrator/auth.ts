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

/** The principal a token belongs to, or null (one lookup by digest). */
export function createAuthenticator(grants: TokenGrant[]): (token: string) => Principal | null {
  const byDigest = new Map<string, Principal>(
    grants.map((g) => [digest(g.token), { name: g.principal, role: g.role }])
  )
  return (token) => byDigest.get(digest(token)) ?? null
}

/** The bearer token of an `Authorization` header value, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1]
}

export function bearerAuth(grants: TokenGrant[]): MiddlewareHandler<AuthEnv> {
  const authenticate = createAuthenticator(grants)
  return async (c, next) => {
    const token =
      bearerToken(c.req.header('authorization')) ??
      (c.req.path.endsWith('/events/stream') ? c.req.query('token') : undefined)
    if (!token)
      throw new AobError(
        ErrorCode.Unauthorized,
        'missing bearer token (Authorization: Bearer <token>)'
      )
    const principal = authenticate(token)
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

/**
 * Web UI sessions (SPEC §10): a random id in an HttpOnly, SameSite=Strict cookie; on the server,
 * under the id's SHA-256 (a reader of the bus cannot use what it sees), the token it signs in
 * with and a CSRF token for its forms. Kept on the bus, so every orchestrator on it knows every
 * session; they expire, and signing out ends them at once.
 * @module
 */
import { timingSafeEqual } from 'node:crypto'
import type { Bus } from '../ports/bus.ts'

export const SESSION_COOKIE = 'aob_session'
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000
const SCOPE = 'ui-sessions'

export interface Session {
  token: string
  csrf: string
  expires_at: number
}

export const randomToken = (): string =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')

const keyOf = (id: string) => new Bun.CryptoHasher('sha256').update(id).digest('hex')

export function createSessions(bus: Pick<Bus, 'putState' | 'getState'>, ttlMs = SESSION_TTL_MS) {
  return {
    ttlMs,
    async create(token: string): Promise<{ id: string; session: Session }> {
      const id = randomToken()
      const session = { token, csrf: randomToken(), expires_at: Date.now() + ttlMs }
      await bus.putState(SCOPE, keyOf(id), JSON.stringify(session), ttlMs)
      return { id, session }
    },
    async get(id: string | undefined): Promise<Session | null> {
      if (!id || id.length > 100) return null
      const raw = await bus.getState(SCOPE, keyOf(id))
      if (!raw) return null // expired, ended, or never
      const session = JSON.parse(raw) as Session
      return session.expires_at > Date.now() ? session : null
    },
    async end(id: string | undefined): Promise<void> {
      if (id && id.length <= 100) await bus.putState(SCOPE, keyOf(id), '', 60_000)
    },
  }
}
export type Sessions = ReturnType<typeof createSessions>

/** Constant-time comparison of a form's CSRF token with the expected one. */
export function sameToken(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected))
}

/** The token of the session a request's cookie names (a signed-in page's WebSocket upgrade). */
export async function sessionTokenOf(sessions: Sessions, req: Request): Promise<string | null> {
  const id = req.headers
    .get('cookie')
    ?.split(';')
    .map((p) => p.trim())
    .find((p) => p.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1)
  return (await sessions.get(id))?.token ?? null
}

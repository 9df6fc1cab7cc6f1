/**
 * Web UI sessions (SPEC §10): a random id (256 bits) in an HttpOnly, SameSite=Strict cookie; on
 * the server, under the id's SHA-256, the token it signed in with, encrypted (AES-256-GCM) under
 * another hash of the id, and a CSRF token for its forms. A reader of the bus sees neither the id
 * nor a usable token: only the browser holding the cookie can open its session. Kept on the bus,
 * so every orchestrator on it knows every session; they expire, and signing out ends them at once.
 * @module
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto'
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
/** The key the session's token is encrypted under: derived from the id, never stored. */
const secretOf = (id: string) =>
  new Bun.CryptoHasher('sha256').update('aob-ui-session-secret\u0000').update(id).digest()

/** What the bus keeps of a session. */
interface Stored {
  /** base64url of IV (12 bytes), then the GCM tag (16 bytes), then the ciphertext. */
  token: string
  csrf: string
  expires_at: number
}

function seal(id: string, token: string): string {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cipher = createCipheriv('aes-256-gcm', secretOf(id), iv)
  const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')
}

function open(id: string, sealed: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', secretOf(id), raw.subarray(0, 12))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return null // not sealed under this id's key
  }
}

export function createSessions(bus: Pick<Bus, 'putState' | 'getState'>, ttlMs = SESSION_TTL_MS) {
  return {
    ttlMs,
    async create(token: string): Promise<{ id: string; session: Session }> {
      const id = randomToken()
      const session = { token, csrf: randomToken(), expires_at: Date.now() + ttlMs }
      const stored: Stored = { ...session, token: seal(id, token) }
      await bus.putState(SCOPE, keyOf(id), JSON.stringify(stored), ttlMs)
      return { id, session }
    },
    async get(id: string | undefined): Promise<Session | null> {
      if (!id || id.length > 100) return null
      const raw = await bus.getState(SCOPE, keyOf(id))
      if (!raw) return null // expired, ended, or never
      const stored = JSON.parse(raw) as Stored
      const token = stored.expires_at > Date.now() ? open(id, stored.token) : null
      return token === null ? null : { ...stored, token }
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

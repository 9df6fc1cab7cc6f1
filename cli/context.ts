/**
 * What every command shares: global flags, the saved credentials of `aob dev`, output format
 * and the API client.
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CliError, EXIT } from './errors.ts'

export const globalArgs = {
  server: { type: 'string', description: 'API address (AOB_SERVER)' },
  token: { type: 'string', description: 'API token (AOB_TOKEN)' },
  output: { type: 'string', description: 'text | json', default: 'text' },
} as const

export interface GlobalFlags {
  server?: string
  fanout?: string
  token?: string
  output?: string
}

interface Credentials {
  server: string
  token: string
}

export function credentialsPath(): string {
  return join(process.env.AOB_HOME ?? join(homedir(), '.aob'), 'credentials.json')
}

export function saveCredentials(c: Credentials): void {
  const path = credentialsPath()
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 })
  writeFileSync(path, JSON.stringify(c, null, 2), { mode: 0o600 })
}

function loadCredentials(): Credentials | null {
  try {
    return JSON.parse(readFileSync(credentialsPath(), 'utf8')) as Credentials
  } catch {
    return null
  }
}

export function outputMode(flags: GlobalFlags): 'text' | 'json' {
  const mode = flags.output ?? 'text'
  if (mode !== 'text' && mode !== 'json')
    throw new CliError(`--output must be text or json, got "${mode}"`, 2)
  return mode
}

export interface ApiClient {
  server: string
  /** Where the fanout's /ws is, when not on the API's port (`--fanout`, `AOB_FANOUT`). */
  fanout?: string
  token?: string
  request<T>(method: string, path: string, body?: unknown): Promise<T>
  stream(path: string, headers?: Record<string, string>): Promise<Response>
}

export function apiClient(flags: GlobalFlags): ApiClient {
  const saved = loadCredentials()
  const server = (
    flags.server ||
    env('AOB_SERVER') ||
    saved?.server ||
    'http://127.0.0.1:7070'
  ).replace(/\/+$/, '')
  const token =
    flags.token ||
    env('AOB_TOKEN') ||
    (saved && saved.server.replace(/\/+$/, '') === server ? saved.token : undefined)
  const headers = (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {})
  const call = async (path: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetch(`${server}/api/v1${path}`, init)
    } catch (e) {
      const code = (e as { code?: string }).code
      const why =
        code === 'ConnectionRefused' || code === 'ECONNREFUSED'
          ? 'connection refused'
          : (e as Error).message
      throw new CliError(`cannot reach ${server}: ${why}; is aob dev running?`)
    }
  }
  const fanout = (flags.fanout || env('AOB_FANOUT'))?.replace(/\/+$/, '')
  return {
    server,
    fanout,
    token,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await call(path, {
        method,
        headers: {
          ...headers(),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      })
      const text = await res.text()
      const data = text ? safeJson(text) : null
      if (!res.ok) {
        const err = (
          data as {
            error?: { message?: string; details?: { path: string; message: string }[] }
          } | null
        )?.error
        const details = err?.details?.map((d) => `\n  ${d.path}: ${d.message}`).join('') ?? ''
        throw new CliError(
          `${res.status}: ${err?.message ?? text}${details}`,
          res.status === 404 ? EXIT.notFound : EXIT.error,
          data ?? undefined
        )
      }
      return data as T
    },
    stream(path, extra = {}) {
      return call(path, { headers: { ...headers(), accept: 'text/event-stream', ...extra } })
    },
  }
}

/** An environment variable, with empty meaning unset. */
function env(name: string): string | undefined {
  return process.env[name] || undefined
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Configuration: every environment variable name in one place, one schema, and parseConfig()
 * called only by mains. Flags override the environment. A bad value stops the process with a
 * message naming the variable.
 * @module
 */
import { DEFAULT_LIMITS, type Limits } from './model/workflow.ts'
import type { Tier } from './model/stats.ts'
import { parseAllowList } from './net/addresses.ts'
import { DEFAULT_RATE_LIMITS, parseRateLimits, type RateRule } from './rate-limit.ts'

export const ENV = {
  databaseUrl: 'AOB_DATABASE_URL',
  redisUrl: 'AOB_REDIS_URL',
  data: 'AOB_DATA',
  host: 'AOB_HOST',
  port: 'AOB_PORT',
  tokens: 'AOB_TOKENS',
  token: 'AOB_TOKEN',
  server: 'AOB_SERVER',
  httpAllow: 'AOB_HTTP_ALLOW',
  httpPorts: 'AOB_HTTP_PORTS',
  httpDeniedPaths: 'AOB_HTTP_DENIED_PATHS',
  maxAgentsPerRun: 'AOB_MAX_AGENTS_PER_RUN',
  logLevel: 'AOB_LOG_LEVEL',
  bodyLimit: 'AOB_BODY_LIMIT_BYTES',
  redisPrefix: 'AOB_REDIS_PREFIX',
  databaseSchema: 'AOB_DATABASE_SCHEMA',
  visibilityMs: 'AOB_VISIBILITY_MS',
  concurrency: 'AOB_CONCURRENCY',
  maxJsonDepth: 'AOB_MAX_JSON_DEPTH',
  healthPort: 'AOB_HEALTH_PORT',
  workerTypes: 'AOB_WORKER_TYPES',
  openaiBaseUrl: 'OPENAI_BASE_URL',
  openaiApiKey: 'OPENAI_API_KEY',
  agentModel: 'AOB_AGENT_MODEL',
  maxTokensPerRun: 'AOB_MAX_TOKENS_PER_RUN',
  agentAttempts: 'AOB_AGENT_MODEL_ATTEMPTS',
  agentTimeoutMs: 'AOB_AGENT_MODEL_TIMEOUT_MS',
  fanoutBufferBytes: 'AOB_FANOUT_BUFFER_BYTES',
  rateLimits: 'AOB_RATE_LIMITS',
} as const

export const ROLES = ['admin', 'operator', 'viewer'] as const
export type Role = (typeof ROLES)[number]

export interface TokenGrant {
  role: Role
  token: string
  /** The principal: the entry's name, else `<role>-<first 8 hex digits of SHA-256(token)>`. */
  principal: string
}

export const PRINCIPAL_NAME = /^[a-z0-9._-]{1,64}$/

/** The principal of an unnamed token (SPEC §4). */
export function principalOf(role: Role, token: string): string {
  return `${role}-${new Bun.CryptoHasher('sha256').update(token).digest('hex').slice(0, 8)}`
}

export interface Config {
  mode: 'embedded' | 'distributed'
  /** Embedded state file, or ':memory:'. */
  dataPath: string
  databaseUrl?: string
  redisUrl?: string
  host: string
  port: number
  tokens: TokenGrant[]
  limits: Limits
  logLevel: string
  bodyLimitBytes: number
  httpAllow: string[]
  /** Ports outbound requests may use (the SSRF guard's port policy). */
  httpPorts: number[]
  /** Path prefixes outbound requests may not use; unset: the guard's defaults. */
  httpDeniedPaths?: string[]
  /** Prefix of every Redis key (several deployments or tests on one Redis). */
  redisPrefix: string
  /** Postgres schema of aob's tables (search_path); unset: the server's default. */
  databaseSchema?: string
  /** A message pending this long on a consumer is taken over by another (it crashed). */
  visibilityMs: number
  /** Tasks (or completions) one worker (or coordinator) process handles at once. */
  concurrency: number
  /** Port of `/health` of a coordinator or worker process; unset: none. */
  healthPort?: number
  /** Node types a built-in worker process serves; unset: all of them. */
  workerTypes?: string[]
  agent: AgentConfig
  /** A WebSocket client whose unsent bytes pass this is dropped (1013). */
  fanoutBufferBytes: number
  /** Run creation budgets per principal and tier (SPEC §4); null: off. */
  rateLimits: Map<Tier, RateRule> | null
}

/** The agent worker's model server and bounds (SPEC §7, §9). */
export interface AgentConfig {
  /** Any OpenAI-compatible server. */
  baseUrl: string
  /** Sent as the bearer token; local servers usually ignore it. */
  apiKey: string
  /** The model of agent nodes that name none. */
  model: string
  /** Tokens all agent nodes of one run may use together. */
  maxTokensPerRun: number
  /** Attempts of one model call when the server answers 429/5xx or times out. */
  modelAttempts: number
  /** Time one model call may take. */
  modelTimeoutMs: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export function parseConfig(
  env: Record<string, string | undefined>,
  overrides: Partial<Config> = {}
): Config {
  const databaseUrl = nonEmpty(env[ENV.databaseUrl])
  const redisUrl = nonEmpty(env[ENV.redisUrl])
  // Redis alone is enough for a worker process; Postgres alone is a mistake.
  if (databaseUrl && !redisUrl) {
    throw new ConfigError(
      `${ENV.redisUrl} must be set too: the distributed backend needs both ${ENV.databaseUrl} and ${ENV.redisUrl}`
    )
  }
  const logLevel = env[ENV.logLevel] ?? 'info'
  if (!LOG_LEVELS.includes(logLevel))
    throw new ConfigError(`${ENV.logLevel}="${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`)
  const config: Config = {
    mode: databaseUrl && redisUrl ? 'distributed' : 'embedded',
    dataPath: nonEmpty(env[ENV.data]) ?? '.aob/aob.db',
    host: nonEmpty(env[ENV.host]) ?? '127.0.0.1',
    port: intVar(env, ENV.port, 7070, 0, 65535),
    tokens: parseTokens(env[ENV.tokens]),
    limits: {
      ...DEFAULT_LIMITS,
      maxAgentsPerRun: intVar(env, ENV.maxAgentsPerRun, DEFAULT_LIMITS.maxAgentsPerRun, 0, 1000),
      maxJsonDepth: intVar(env, ENV.maxJsonDepth, DEFAULT_LIMITS.maxJsonDepth, 8, 1024),
    },
    logLevel,
    bodyLimitBytes: intVar(env, ENV.bodyLimit, 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    httpAllow: (env[ENV.httpAllow] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    httpPorts: portList(env[ENV.httpPorts]),
    redisPrefix: env[ENV.redisPrefix] ?? '',
    visibilityMs: intVar(env, ENV.visibilityMs, 30_000, 100, 3_600_000),
    concurrency: intVar(env, ENV.concurrency, 64, 1, 10_000),
    fanoutBufferBytes: intVar(env, ENV.fanoutBufferBytes, 1024 * 1024, 1024, 256 * 1024 * 1024),
    rateLimits: rateLimitsVar(env),
    agent: {
      baseUrl: httpUrl(env, ENV.openaiBaseUrl, 'https://api.openai.com/v1'),
      apiKey: nonEmpty(env[ENV.openaiApiKey]) ?? 'not-set',
      model: nonEmpty(env[ENV.agentModel]) ?? 'gpt-4o-mini',
      maxTokensPerRun: intVar(env, ENV.maxTokensPerRun, 1_000_000, 1, 1_000_000_000),
      modelAttempts: intVar(env, ENV.agentAttempts, 5, 1, 20),
      modelTimeoutMs: intVar(env, ENV.agentTimeoutMs, 120_000, 100, 3_600_000),
    },
  }
  const denied = nonEmpty(env[ENV.httpDeniedPaths])
  if (denied !== undefined) {
    const paths = denied
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean)
    if (paths.some((p) => !p.startsWith('/')))
      throw new ConfigError(
        `${ENV.httpDeniedPaths}="${denied}" must be a comma-separated list of paths starting with /`
      )
    config.httpDeniedPaths = paths
  }
  if (nonEmpty(env[ENV.healthPort]) !== undefined)
    config.healthPort = intVar(env, ENV.healthPort, 0, 0, 65535)
  const types = nonEmpty(env[ENV.workerTypes])
  if (types !== undefined) {
    const list = types
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
    if (list.length === 0 || list.some((t) => !/^[a-z][a-z0-9_.-]{0,63}$/.test(t)))
      throw new ConfigError(
        `${ENV.workerTypes}="${types}" must be a comma-separated list of node types`
      )
    config.workerTypes = list
  }
  const schema = nonEmpty(env[ENV.databaseSchema])
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new ConfigError(`${ENV.databaseSchema}="${schema}" must be a lower-case SQL identifier`)
    config.databaseSchema = schema
  }
  try {
    parseAllowList(config.httpAllow)
  } catch (e) {
    throw new ConfigError(
      `${ENV.httpAllow}: ${(e as Error).message} (entries are CIDRs, IPs or host names, comma-separated)`
    )
  }
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError(`${ENV.databaseUrl} must be a postgres:// URL`)
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError(`${ENV.redisUrl} must be a redis:// URL`)
  if (databaseUrl) config.databaseUrl = databaseUrl
  if (redisUrl) config.redisUrl = redisUrl
  return { ...config, ...overrides }
}

export function parseTokens(raw: string | undefined): TokenGrant[] {
  if (!raw?.trim()) return []
  const grants = raw.split(',').map((part) => {
    const i = part.indexOf(':')
    const head = part.slice(0, i).trim()
    const token = part.slice(i + 1).trim()
    const at = head.indexOf('@')
    const role = at < 0 ? head : head.slice(0, at)
    const name = at < 0 ? undefined : head.slice(at + 1)
    if (i < 0 || !ROLES.includes(role as Role) || token.length < 8) {
      throw new ConfigError(
        `${ENV.tokens}: each entry must be role:token or role@name:token with role one of ${ROLES.join('|')} and a token of 8+ characters`
      )
    }
    if (name !== undefined && !PRINCIPAL_NAME.test(name)) {
      throw new ConfigError(`${ENV.tokens}: the name "${name}" must be 1-64 of [a-z0-9._-]`)
    }
    return { role: role as Role, token, principal: name ?? principalOf(role as Role, token) }
  })
  const seen = new Set<string>()
  for (const g of grants) {
    if (seen.has(g.token)) throw new ConfigError(`${ENV.tokens}: a token is listed twice`)
    seen.add(g.token)
  }
  return grants
}

// --- internal ---

function portList(raw: string | undefined): number[] {
  if (!raw?.trim()) return [80, 443]
  const ports = raw.split(',').map((p) => Number(p.trim()))
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
    throw new ConfigError(
      `${ENV.httpPorts}="${raw}" must be a comma-separated list of ports 1-65535`
    )
  return ports
}

function nonEmpty(s: string | undefined): string | undefined {
  return s && s.trim() ? s.trim() : undefined
}

function intVar(
  env: Record<string, string | undefined>,
  name: string,
  dflt: number,
  min: number,
  max: number
): number {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name}="${raw}" must be an integer from ${min} to ${max}`)
  return n
}

function httpUrl(env: Record<string, string | undefined>, name: string, dflt: string): string {
  const raw = nonEmpty(env[name])
  if (raw === undefined) return dflt
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError(`${name}="${raw}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${name}="${raw}" must be an http(s) URL`)
  return raw.replace(/\/+$/, '')
}

function rateLimitsVar(env: Record<string, string | undefined>): Map<Tier, RateRule> | null {
  const raw = nonEmpty(env[ENV.rateLimits]) ?? DEFAULT_RATE_LIMITS
  try {
    return parseRateLimits(raw)
  } catch (e) {
    throw new ConfigError(
      `${ENV.rateLimits}="${raw}": ${(e as Error).message} (e.g. ${DEFAULT_RATE_LIMITS}, or off)`
    )
  }
}

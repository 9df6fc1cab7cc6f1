/** `aob dev`: the whole platform in one process on the embedded backend. @module */
import { defineCommand } from 'citty'
import { ConfigError, parseConfig } from '../../src/config.ts'
import { createKernel } from '../../src/kernel.ts'
import { saveCredentials } from '../context.ts'
import { CliError } from '../errors.ts'

export default defineCommand({
  meta: {
    name: 'dev',
    description: 'Run API, coordinator and workers in one process (embedded backend)',
  },
  args: {
    port: {
      type: 'string',
      description: 'listen port (AOB_PORT, default 7070; 0 picks a free one)',
    },
    host: { type: 'string', description: 'listen address (AOB_HOST, default 127.0.0.1)' },
    memory: { type: 'boolean', description: 'keep no state on disk', default: false },
  },
  async run({ args }) {
    const token = process.env.AOB_TOKEN || `aob_${crypto.randomUUID().replaceAll('-', '')}`
    let config
    try {
      config = parseConfig({ AOB_LOG_LEVEL: 'warn', ...process.env })
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, 1)
      throw e
    }
    if (args.port !== undefined) {
      const port = Number(args.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be 0-65535, got "${args.port}"`, 2)
      config.port = port
    }
    if (args.host) config.host = args.host
    if (args.memory) {
      config.dataPath = ':memory:'
      config.mode = 'embedded'
    }
    // Its own token is the admin principal `dev`, unless AOB_TOKENS lists it (SPEC §6).
    if (!config.tokens.some((g) => g.token === token)) {
      config.tokens = [...config.tokens, { role: 'admin', token, principal: 'dev' }]
    }
    const kernel = await createKernel(config, { migrate: true })
    const { startPlatform } = await import('../platform.ts')
    const platform = await startPlatform(kernel, { host: config.host, port: config.port })
    saveCredentials({ server: platform.api.url, token })
    const state = config.mode === 'embedded' ? config.dataPath : 'Postgres + Redis'
    console.log(`aob dev: API on ${platform.api.url}/api/v1 (state: ${state})`)
    console.log(`web UI on ${platform.api.url}/ (sign in with the token below)`)
    console.log(`admin token: ${token}`)
    console.log(`saved for the CLI; try: bun run aob run start examples/chain.json -f`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await platform.stop()
    await kernel.close()
  },
})

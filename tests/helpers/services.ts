/**
 * Throwaway Redis and Postgres for tests: taken from AOB_TEST_REDIS_URL / AOB_TEST_DATABASE_URL
 * when given, else started from local binaries (random ports, temp dirs) on first use and
 * stopped when the test process exits. Fails loudly, never skips, when neither works.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ServerHandle {
  url: string
  port: number
  dir: string
  stop(): Promise<void>
  /** Kills (SIGKILL) or stops the server; start() brings it back on the same port and data. */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>
  start(): Promise<void>
}

const PG_BIN = [
  '/usr/lib/postgresql/15/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/17/bin',
].find((d) => Bun.file(`${d}/postgres`).size > 0)
const cleanups: (() => void)[] = []
process.on('exit', stopAllServers)

/** Stops every server this process started (the test preload calls it after all tests). */
export function stopAllServers(): void {
  for (const fn of cleanups.splice(0)) {
    try {
      fn()
    } catch {}
  }
}

let redis: Promise<string> | undefined
let database: Promise<string> | undefined

export function testRedisUrl(): Promise<string> {
  redis ??= process.env.AOB_TEST_REDIS_URL
    ? Promise.resolve(process.env.AOB_TEST_REDIS_URL)
    : startRedis().then((s) => s.url)
  return redis
}

export function testDatabaseUrl(): Promise<string> {
  database ??= process.env.AOB_TEST_DATABASE_URL
    ? Promise.resolve(process.env.AOB_TEST_DATABASE_URL)
    : startPostgres().then((s) => s.url)
  return database
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** A Redis of its own (fault-injection tests kill it). */
export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<ServerHandle> {
  const bin = Bun.which('redis-server')
  if (!bin)
    throw new Error(
      'redis-server not found: install it (apt-get install -y redis-server) or set AOB_TEST_REDIS_URL'
    )
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'aob-redis-'))
  let proc: ReturnType<typeof Bun.spawn> | undefined
  const start = async () => {
    proc = Bun.spawn(
      [
        bin,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        opts.appendonly ? 'yes' : 'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdout: 'ignore', stderr: 'pipe' }
    )
    await waitForPort(port, 'redis-server', () => proc?.exitCode ?? null)
  }
  await start()
  const handle: ServerHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    start,
    async kill(signal = 'SIGKILL') {
      proc?.kill(signal)
      await proc?.exited
    },
    async stop() {
      await handle.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  cleanups.push(() => {
    proc?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  return handle
}

/** A Postgres cluster of its own, initdb'd into a temp dir (as the postgres user when root). */
export async function startPostgres(): Promise<ServerHandle> {
  if (!PG_BIN)
    throw new Error(
      'Postgres server binaries not found under /usr/lib/postgresql/*/bin: apt-get install -y postgresql, or set AOB_TEST_DATABASE_URL'
    )
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'aob-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  const asUser = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  const run = (args: string[]) => {
    const res = Bun.spawnSync([...asUser, ...args], { stdout: 'pipe', stderr: 'pipe' })
    if (res.exitCode !== 0)
      throw new Error(`${args.join(' ')} failed: ${res.stderr.toString()}${res.stdout.toString()}`)
  }
  run([`${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on`
  const start = async () => {
    run([
      `${PG_BIN}/pg_ctl`,
      '-D',
      data,
      '-o',
      opts,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '30',
      'start',
    ])
  }
  await start()
  const stopCmd = (mode: string) =>
    Bun.spawnSync([...asUser, `${PG_BIN}/pg_ctl`, '-D', data, '-m', mode, '-w', 'stop'], {
      stdout: 'ignore',
      stderr: 'ignore',
    })
  const handle: ServerHandle = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    start,
    async kill(signal = 'SIGKILL') {
      stopCmd(signal === 'SIGKILL' ? 'immediate' : 'fast')
    },
    async stop() {
      stopCmd('immediate')
      rmSync(dir, { recursive: true, force: true })
    },
  }
  cleanups.push(() => {
    stopCmd('immediate')
    rmSync(dir, { recursive: true, force: true })
  })
  return handle
}

async function waitForPort(port: number, what: string, exited: () => number | null): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    try {
      const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
      socket.end()
      return
    } catch {
      if (exited() !== null) throw new Error(`${what} exited with code ${exited()}`)
      if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`)
      await Bun.sleep(20)
    }
  }
}

/** A fresh schema name for one test file's tables. */
export function schemaName(): string {
  return `t_${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
}

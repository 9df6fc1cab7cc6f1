// bunfig [test] preload: fail loudly on stray promise rejections; keep service logs quiet; stop
// the throwaway servers when the run ends.
import { afterAll } from 'bun:test'
import { stopAllServers } from './services.ts'
import { loadLibs } from '../../src/libs.ts'

// What every service does at start (tests call validation and steps without a kernel too).
await loadLibs()

process.env.AOB_LOG_LEVEL ??= 'silent'
process.on('unhandledRejection', (e) => {
  console.error('unhandled rejection in a test:', e)
  process.exitCode = 1
})
afterAll(stopAllServers)

/** pino writing JSON to stdout; no transports (they break compiled binaries). @module */
import pino from 'pino'

export type Logger = pino.Logger

export function createLogger(level: string, svc = 'aob'): Logger {
  return pino({ level, base: { svc }, timestamp: pino.stdTimeFunctions.isoTime })
}

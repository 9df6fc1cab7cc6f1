/** A request the SSRF guard refused; names the layer that refused it. Never retried. @module */
import { ErrorCode, TerminalError } from '../errors.ts'

export type SsrfLayer =
  | 'protocol'
  | 'userinfo'
  | 'host'
  | 'port'
  | 'path'
  | 'dns'
  | 'address'
  | 'redirect'

export class SsrfError extends TerminalError {
  override name = 'SsrfError'
  constructor(
    readonly layer: SsrfLayer,
    message: string
  ) {
    super(ErrorCode.Forbidden, `request blocked by the SSRF guard (${layer}): ${message}`)
  }
}

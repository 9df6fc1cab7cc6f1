/** CLI exit codes (SPEC §6) and the errors that carry them. @module */
export const EXIT = { ok: 0, error: 1, usage: 2, runFailed: 3, notFound: 4 } as const

export class CliError extends Error {
  override name = 'CliError'
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
    /** The API's error object, printed as is with `--output json`. */
    readonly body?: unknown
  ) {
    super(message)
  }
}

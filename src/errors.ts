/**
 * Errors shared by every layer. The `code` is the contract: the API maps it to a status, the
 * contract suites assert on it, and every backend raises the same code for the same failure.
 * @module
 */
export const ErrorCode = {
  BadRequest: 'BAD_REQUEST',
  InvalidJson: 'INVALID_JSON',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  RunNotFound: 'RUN_NOT_FOUND',
  WorkflowNotFound: 'WORKFLOW_NOT_FOUND',
  PatchNotFound: 'PATCH_NOT_FOUND',
  ApprovalNotFound: 'APPROVAL_NOT_FOUND',
  Conflict: 'CONFLICT',
  TagConflict: 'TAG_CONFLICT',
  RunFinished: 'RUN_FINISHED',
  PatchConflict: 'PATCH_CONFLICT',
  VersionConflict: 'VERSION_CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  InvalidWorkflow: 'INVALID_WORKFLOW',
  InvalidPatch: 'INVALID_PATCH',
  InvalidDecision: 'INVALID_DECISION',
  ApprovalTimedOut: 'APPROVAL_TIMED_OUT',
  ModelUnavailable: 'MODEL_UNAVAILABLE',
  ModelError: 'MODEL_ERROR',
  MaxTurns: 'MAX_TURNS',
  BudgetExceeded: 'BUDGET_EXCEEDED',
  SpawnLimit: 'SPAWN_LIMIT',
  PatchAttemptsExhausted: 'PATCH_ATTEMPTS_EXHAUSTED',
  ToolNotFound: 'TOOL_NOT_FOUND',
  InvalidTool: 'INVALID_TOOL',
  ApiNotFound: 'API_NOT_FOUND',
  InvalidApi: 'INVALID_API',
  InvalidInput: 'INVALID_INPUT',
  RateLimited: 'RATE_LIMITED',
  Timeout: 'TIMEOUT',
  ExpressionError: 'EXPRESSION_ERROR',
  StepFailed: 'STEP_FAILED',
  InvalidOutput: 'INVALID_OUTPUT',
  CompletionRecorded: 'COMPLETION_RECORDED',
  Internal: 'INTERNAL',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface ErrorDetail {
  path: string
  message: string
}

export class AobError extends Error {
  override name = 'AobError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown }
  ) {
    super(message, options)
  }
}

/** The node fails now; no retry. */
export class TerminalError extends AobError {
  override name = 'TerminalError'
}

/** Retry, optionally after `retryAfterMs`. */
export class RetryableError extends AobError {
  override name = 'RetryableError'
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown }
  ) {
    super(code, message, [], options)
  }
}

/** An error as it crosses the bus or lands in the store: plain data. */
export interface ErrorData {
  message: string
  code?: string
  name?: string
  retryable?: boolean
  retry_after_ms?: number
  /** What the failed work used (an agent node's tokens). */
  usage?: Record<string, number>
}

export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e
  if (e && typeof e === 'object' && 'message' in e) return new Error(String(e.message))
  return new Error(typeof e === 'string' ? e : JSON.stringify(e))
}

export function toErrorData(e: unknown): ErrorData {
  const err = ensureError(e)
  const data: ErrorData = { message: err.message, name: err.name }
  if (err instanceof AobError) data.code = err.code
  if (err instanceof TerminalError) data.retryable = false
  else data.retryable = true
  if (err instanceof RetryableError && err.retryAfterMs !== undefined) {
    data.retry_after_ms = err.retryAfterMs
  }
  const usage = (err as { usage?: unknown }).usage
  if (usage && typeof usage === 'object') data.usage = usage as Record<string, number>
  return data
}

/** The completion ledger refused a second commit of one node activation's completion. */
export function completionRecorded(runId: string, nodeId: string, iteration: number): AobError {
  return new AobError(
    ErrorCode.CompletionRecorded,
    `the completion of node "${nodeId}" (activation ${iteration}) of run ${runId} is already committed`
  )
}

/** Maps errors to the SPEC §4 error body and status. @module */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { AobError, ErrorCode, type ErrorDetail } from '../errors.ts'
import type { Logger } from '../log.ts'

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  INVALID_INPUT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  WORKFLOW_NOT_FOUND: 404,
  PATCH_NOT_FOUND: 404,
  APPROVAL_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  API_NOT_FOUND: 404,
  CONFLICT: 409,
  TAG_CONFLICT: 409,
  RUN_FINISHED: 409,
  PATCH_CONFLICT: 409,
  VERSION_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_WORKFLOW: 422,
  INVALID_PATCH: 422,
  INVALID_DECISION: 422,
  INVALID_TOOL: 422,
  INVALID_API: 422,
  RATE_LIMITED: 429,
}

export function errorBody(code: string, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } }
}

export function handleError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof AobError) {
      return c.json(errorBody(err.code, err.message, err.details), STATUS[err.code] ?? 500)
    }
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode
      const code =
        status === 413
          ? ErrorCode.PayloadTooLarge
          : status === 401
            ? ErrorCode.Unauthorized
            : ErrorCode.BadRequest
      return c.json(errorBody(code, err.message || 'bad request'), status)
    }
    log.error({ err, path: c.req.path }, 'unhandled error')
    return c.json(errorBody(ErrorCode.Internal, 'internal error'), 500)
  }
}

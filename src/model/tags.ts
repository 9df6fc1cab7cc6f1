/** The rule of a tag's compare-and-swap move, the same in every store. @module */
import { AobError, ErrorCode } from '../errors.ts'

/**
 * Throws TAG_CONFLICT when `expect` is given (a workflow id, or null for "no such tag yet")
 * and the tag points elsewhere (`currentId`, null when it does not exist).
 */
export function checkTagExpectation(
  name: string,
  currentId: string | null,
  expect: string | null | undefined
): void {
  if (expect !== undefined && expect !== currentId) {
    throw new AobError(
      ErrorCode.TagConflict,
      `tag "${name}" points to ${currentId ?? 'nothing'}, expected ${expect ?? 'nothing'}`
    )
  }
}

/**
 * The request lane's answers: a worker (which talks only to the bus) asks for a run transition
 * and a coordinator runs it through the very code the API uses. Kinds: `patch` (the agent's
 * patch_workflow: the same rules as `POST /runs/:id/patch`).
 * @module
 */
import * as v from 'valibot'
import { patchRun, PatchRequest } from '../engine/patch.ts'
import { AobError, ErrorCode } from '../errors.ts'
import type { RunId } from '../ids.ts'
import type { Kernel } from '../kernel.ts'
import { issuesToDetails } from '../model/issues.ts'
import type { Reply, Request } from '../model/messages.ts'
import { transact } from '../runs/transact.ts'

export async function answerRequest(kernel: Kernel, req: Request): Promise<Reply> {
  try {
    switch (req.kind) {
      case 'patch': {
        const body = v.safeParse(PatchRequest, req.payload)
        if (!body.success)
          throw new AobError(
            ErrorCode.InvalidPatch,
            'request payload does not match the expected shape',
            issuesToDetails(body.issues)
          )
        const { value } = await transact(
          kernel,
          req.run_id as RunId,
          (d) =>
            patchRun(d, body.output.operations, {
              reason: body.output.reason,
              limits: kernel.config.limits,
            }),
          { durableDispatch: true }
        )
        return {
          id: req.id,
          ok: true,
          value: { patch_id: value.id, status: value.status, ir_version: value.ir_version },
        }
      }
    }
  } catch (e) {
    if (e instanceof AobError)
      return {
        id: req.id,
        ok: false,
        error: { code: e.code, message: e.message, details: e.details },
      }
    kernel.log.error(
      { err: e, request: req.id, kind: req.kind, run_id: req.run_id },
      'request failed'
    )
    return { id: req.id, ok: false, error: { code: ErrorCode.Internal, message: 'internal error' } }
  }
}

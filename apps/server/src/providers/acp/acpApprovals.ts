// An ACP agent's `session/request_permission`: what Spindle answers on its own (by the thread's
// runtime mode) and what it asks the thread's owner, and how the owner's decision becomes one of
// the options the agent offered. full-access allows everything; auto-accept-edits and sandboxed
// allow edits of files inside the worktree (an ACP agent has no Spindle sandbox, so its commands
// are asked about, as in approval-required); approval-required asks about everything.

import { isAbsolute, relative, resolve, sep } from "node:path"
import type {
  PermissionOption,
  RequestPermissionRequest,
  RequestPermissionResponse
} from "@agentclientprotocol/sdk"
import type { ApprovalDecision, ApprovalKind, RuntimeMode } from "@spindle/contracts"

const EDITS = new Set(["edit", "delete", "move"])

export const approvalKind = (request: RequestPermissionRequest): ApprovalKind =>
  EDITS.has(request.toolCall.kind ?? "") ? "file-change" : "command"

const within = (worktree: string, path: string) => {
  const rel = relative(worktree, resolve(worktree, path))
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))
}

/** Whether Spindle allows this request itself, without asking. */
export const allowedByMode = (mode: RuntimeMode, worktree: string, request: RequestPermissionRequest) => {
  if (mode === "full-access") return true
  if (mode === "approval-required") return false
  const call = request.toolCall
  if (!EDITS.has(call.kind ?? "")) return false
  const paths = [
    ...(call.locations ?? []).map((l) => l.path),
    ...(call.content ?? []).flatMap((c) => (c.type === "diff" ? [c.path] : []))
  ]
  return paths.length > 0 && paths.every((path) => within(worktree, path))
}

const pick = (options: ReadonlyArray<PermissionOption>, kinds: ReadonlyArray<PermissionOption["kind"]>) => {
  for (const kind of kinds) {
    const option = options.find((o) => o.kind === kind)
    if (option !== undefined) return option
  }
  return undefined
}

/** The answer for a decision: the offered option closest to it; cancelled when none fits. */
export const permissionAnswer = (
  options: ReadonlyArray<PermissionOption>,
  decision: ApprovalDecision
): RequestPermissionResponse => {
  const option =
    decision === "accept"
      ? pick(options, ["allow_once", "allow_always"])
      : decision === "accept-for-session"
        ? pick(options, ["allow_always", "allow_once"])
        : pick(options, ["reject_once", "reject_always"])
  return option === undefined
    ? { outcome: { outcome: "cancelled" } }
    : { outcome: { outcome: "selected", optionId: option.optionId } }
}

/** No plain refusal offered: declining can only cancel the agent's turn. */
export const declineEndsTurn = (options: ReadonlyArray<PermissionOption>) =>
  pick(options, ["reject_once", "reject_always"]) === undefined

export const CANCELLED: RequestPermissionResponse = { outcome: { outcome: "cancelled" } }

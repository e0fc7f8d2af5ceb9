// The one error of the git capability. `reason` says which failure it was; the message says
// what to do. `toSpindleError` turns it into the wire error for callers outside git/.
import { SpindleError } from "@spindle/contracts"
import * as Schema from "effect/Schema"

export const GitErrorReason = Schema.Literals([
  "not-a-repository",
  "no-commits",
  "base-not-found",
  "ambiguous-base",
  "branch-exists",
  "branch-checked-out",
  "path-exists",
  "invalid-branch-name",
  "not-a-worktree",
  "worktree-not-allowed",
  "worktree-unconfirmed",
  "dirty",
  "timeout",
  "fetch-failed",
  "command-failed",
  /** A worktree whose .git does not link into its project's repository: git is not run there. */
  "foreign-gitdir",
  /** Files too large to take into a snapshot of a worktree's uncommitted changes. */
  "too-large"
])
export type GitErrorReason = typeof GitErrorReason.Type

export class GitError extends Schema.TaggedError<GitError>()("GitError", {
  reason: GitErrorReason,
  message: Schema.String,
  path: Schema.optionalKey(Schema.String),
  /** git's own stderr, trimmed, when a git command failed. */
  stderr: Schema.optionalKey(Schema.String)
}) {}

/** Which wire reason each git failure is: the caller's input, a clash with existing state, or git. */
const wireReason = {
  "not-a-repository": "validation",
  "no-commits": "validation",
  "base-not-found": "validation",
  "ambiguous-base": "validation",
  "branch-exists": "conflict",
  "branch-checked-out": "conflict",
  "path-exists": "conflict",
  "invalid-branch-name": "validation",
  "not-a-worktree": "validation",
  "worktree-not-allowed": "forbidden",
  "worktree-unconfirmed": "forbidden",
  dirty: "conflict",
  timeout: "git",
  "fetch-failed": "git",
  "command-failed": "git",
  "foreign-gitdir": "forbidden",
  "too-large": "validation"
} as const satisfies Record<GitErrorReason, SpindleError["reason"]>

/** The wire error for a git failure; `field` names the input at fault, when there is one. */
export const toSpindleError = (error: GitError, field?: string) =>
  new SpindleError({
    reason: wireReason[error.reason],
    message: error.message,
    ...(error.path === undefined ? {} : { path: error.path }),
    ...(field === undefined ? {} : { field })
  })

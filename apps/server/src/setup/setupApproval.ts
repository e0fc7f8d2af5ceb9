// What the user vouched for when they registered a project or approved its setup: the blob of the
// committed setup script and the default branch's commit, read from git by the server (never
// taken from a client), and the warning a start gets when that branch was rewritten since. Which
// script runs with that pin is setupSource.ts' rule.
import type { Project, SetupApproval } from "@spindle/contracts"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { GitError } from "../git/GitError.ts"
import type { Repositories } from "../git/Repositories.ts"
import { approveSetupCommand, MAX_COMMITTED_SETUP_BYTES, SETUP_FILE } from "./setupSource.ts"

/** The default branch as it stands now: its commit, and the setup script's blob in that commit. */
export const readSetupApproval = (
  repositories: Repositories["Service"],
  repo: string,
  branch: string | null
): Effect.Effect<SetupApproval, GitError> =>
  Effect.gen(function* () {
    const approvedAt = DateTime.formatIso(yield* DateTime.now)
    const commit = branch === null ? undefined : yield* repositories.branchCommit(repo, branch)
    if (commit === undefined) return { setupBlob: null, branchCommit: null, approvedAt }
    // Read at the commit id just resolved, so the blob and the commit pinned belong together.
    const file = yield* repositories.readCommittedFile(repo, commit, SETUP_FILE, MAX_COMMITTED_SETUP_BYTES)
    // A refused entry (a symlink, a folder, too big) pins nothing: it is refused when run anyway.
    return { setupBlob: file?._tag === "file" ? file.oid : null, branchCommit: commit, approvedAt }
  }).pipe(Effect.withSpan("readSetupApproval"))

/**
 * A warning when the default branch no longer contains the commit the user last saw: someone
 * rewrote it (a force-push, a reset, or an agent's `git update-ref` from its worktree). Moving
 * forward is ordinary work and says nothing.
 */
export const branchRewrittenWarning = (
  repositories: Repositories["Service"],
  project: Project
): Effect.Effect<string | undefined, GitError> =>
  Effect.gen(function* () {
    const seen = project.setupApproval?.branchCommit ?? null
    const branch = project.defaultBranch
    if (seen === null || branch === null) return undefined
    const now = yield* repositories.branchCommit(project.workspaceRoot, branch)
    if (now === seen) return undefined
    if (now !== undefined && (yield* repositories.isAncestor(project.workspaceRoot, seen, now)))
      return undefined
    const where = now === undefined ? "no longer exists" : `is now at ${now.slice(0, 12)}`
    return `The default branch ${branch} ${where}, which does not contain ${seen.slice(0, 12)}, the commit it was at when you last approved project ${project.id}: its history was rewritten (a force-push, a reset, or an agent moving the branch from its worktree). Check it ('git log refs/heads/${branch}'), then run '${approveSetupCommand(project.id)}' to accept it.`
  }).pipe(Effect.withSpan("branchRewrittenWarning"))

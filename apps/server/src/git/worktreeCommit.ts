// Committing what a thread left uncommitted in its worktree (`thread merge --commit`): every
// change, untracked files too (ignored ones not), as one commit on the worktree's branch under
// Spindle's identity. Plumbing only (add, write-tree, commit-tree, update-ref from the old tip), so
// no hook or signing program the worktree configures runs, and a branch that moved meanwhile is
// not overwritten.
import * as Effect from "effect/Effect"
import { SPINDLE_IDENTITY } from "./branchMerge.ts"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"

/** Commits the worktree's changes on `branch` (checked out there); answers the commit, or null when there was nothing. */
export const commitWorktreeChanges = (
  git: GitCli["Service"],
  repo: string,
  worktree: string,
  branch: string,
  message: string
) =>
  Effect.gen(function* () {
    const options = { cwd: worktree, worktreeOf: repo }
    const ref = `refs/heads/${branch}`
    const current = yield* git.run(["symbolic-ref", "--quiet", "HEAD"], options)
    if (current.exitCode !== 0 || current.stdout.trim() !== ref) {
      return yield* new GitError({
        reason: "command-failed",
        message: `${worktree} is not on ${branch}: check it out there (git switch ${branch}) before committing its changes.`,
        path: worktree
      })
    }
    const head = (yield* git.runOk(["rev-parse", "--verify", "HEAD^{commit}"], options)).trim()
    yield* git.runOk(["add", "--all", "--", "."], options)
    const tree = (yield* git.runOk(["write-tree"], options)).trim()
    const headTree = (yield* git.runOk(["rev-parse", "--verify", "HEAD^{tree}"], options)).trim()
    if (tree === headTree) return null
    const commit = (yield* git.runOk(["commit-tree", tree, "-p", head, "-m", message], {
      ...options,
      config: SPINDLE_IDENTITY
    })).trim()
    const moved = yield* git.run(
      ["update-ref", "-m", "spindle: commit before merge", ref, commit, head],
      options
    )
    if (moved.exitCode !== 0) {
      return yield* new GitError({
        reason: "command-failed",
        message: `${branch} moved while its changes were being committed; nothing was committed. Try again.`,
        path: worktree,
        stderr: moved.stderr.trim()
      })
    }
    return commit
  })

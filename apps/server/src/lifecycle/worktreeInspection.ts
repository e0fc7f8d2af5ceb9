// How a worktree stands before anything removes it: its uncommitted files and the commits on its
// branch that no other branch, remote-tracking branch or tag holds. Commits a squash or rebase
// merge brought into another branch (the thread's `merged` record, while that branch still holds
// the merge) count as held. Reads only.
import { existsSync } from "node:fs"
import { type ThreadMergeRecord, UNCOMMITTED_ADVICE } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { GitCli } from "../git/GitCli.ts"
import type { GitError } from "../git/GitError.ts"

/** At most this many files and commits are named; the counts are always exact. */
const NAMED = 20

export interface Inspection {
  readonly present: boolean
  readonly dirtyFiles: ReadonlyArray<string>
  readonly dirtyCount: number
  /** `<short sha> <subject>` of commits on the branch only. */
  readonly unpushed: ReadonlyArray<string>
  readonly unpushedCount: number
  /** The branch's commit, or the worktree's HEAD when it has no branch. */
  readonly head: string | null
  readonly branchExists: boolean
  /** Commits whose history counts as held elsewhere (a squash or rebase merge's source tip). */
  readonly held: ReadonlyArray<string>
}

/** `git status --porcelain=v1 -z` entries' paths (a rename's two paths count once). */
const changedPaths = (output: string) => {
  const paths: Array<string> = []
  const parts = output.split("\0")
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i] as string
    if (entry.length < 4) continue
    paths.push(entry.slice(3))
    if (entry[0] === "R" || entry[0] === "C") i++
  }
  return paths
}

export const inspectWorktree = (
  git: GitCli["Service"],
  repo: string,
  worktreePath: string | null,
  branch: string | null,
  merged: Pick<ThreadMergeRecord, "sourceCommit" | "commit"> | null = null
): Effect.Effect<Inspection, GitError> =>
  Effect.gen(function* () {
    const present = worktreePath !== null && existsSync(worktreePath)
    const dirty = present
      ? changedPaths(
          yield* git.runOk(["status", "--porcelain=v1", "-z", "--untracked-files=all"], {
            cwd: worktreePath as string,
            worktreeOf: repo
          })
        )
      : []
    const branchHead =
      branch === null
        ? undefined
        : yield* git
            .run(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], { cwd: repo })
            .pipe(Effect.map((r) => (r.exitCode === 0 ? r.stdout.trim() : undefined)))
    // A squash or rebase merge copied the commits up to `sourceCommit`: they are held for as long
    // as a branch other than this one still holds the merge's result.
    const mergedInto =
      merged === null || branchHead === undefined
        ? []
        : (yield* git.runOk(
            ["for-each-ref", "--format=%(refname)", "--contains", merged.commit, "refs/heads/"],
            { cwd: repo }
          ))
            .split("\n")
            .filter((ref) => ref !== "" && ref !== `refs/heads/${branch}`)
    const held = mergedInto.length > 0 && merged !== null ? [merged.sourceCommit] : []
    const unpushed =
      branchHead === undefined
        ? []
        : (yield* git.runOk(
            [
              "log",
              "--format=%h %s",
              `refs/heads/${branch}`,
              "--not",
              // --branches matches short names; branch names cannot hold glob characters.
              `--exclude=${branch}`,
              "--branches",
              "--remotes",
              "--tags",
              ...held
            ],
            { cwd: repo }
          ))
            .split("\n")
            .filter((line) => line !== "")
    const head =
      branchHead ??
      (present
        ? yield* git
            .run(["rev-parse", "--verify", "--quiet", "HEAD"], {
              cwd: worktreePath as string,
              worktreeOf: repo
            })
            .pipe(Effect.map((r) => (r.exitCode === 0 ? r.stdout.trim() : null)))
        : null)
    return {
      present,
      dirtyFiles: dirty.slice(0, NAMED),
      dirtyCount: dirty.length,
      unpushed: unpushed.slice(0, NAMED),
      unpushedCount: unpushed.length,
      head,
      branchExists: branchHead !== undefined,
      held
    }
  })

const more = (named: number, count: number) => (count > named ? `, and ${count - named} more` : "")

/** Why a worktree is kept, in words that name the fix; empty when nothing would be lost. */
export const keepReasons = (inspection: Inspection, branch: string | null): ReadonlyArray<string> => {
  const reasons: Array<string> = []
  if (inspection.dirtyCount > 0) {
    reasons.push(
      `${inspection.dirtyCount} uncommitted change(s): ${inspection.dirtyFiles.join(", ")}${more(inspection.dirtyFiles.length, inspection.dirtyCount)}. ${UNCOMMITTED_ADVICE}`
    )
  }
  if (inspection.unpushedCount > 0) {
    reasons.push(
      `${inspection.unpushedCount} commit(s) on ${branch} that are on no other branch or upstream: ${inspection.unpushed.join("; ")}${more(inspection.unpushed.length, inspection.unpushedCount)}. Push or merge them first.`
    )
  }
  return reasons
}

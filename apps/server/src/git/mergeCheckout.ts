// A merge where the target is checked out: where that is (git's HEAD files, else `git worktree
// list`), whether that checkout can take the merge (clean, nothing under way), and moving its files
// and index with the branch (a two-tree read-tree beside the ref's move, each put back when the
// other fails). A target checked out nowhere is merged on the ref alone (branchMerge.ts).
import { existsSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import * as Effect from "effect/Effect"
import {
  commitOnRef,
  type MergePreview,
  type MergeStrategy,
  makeCommit,
  mergeable,
  moveTarget
} from "./branchMerge.ts"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import { checkoutOfRef } from "./worktreeFiles.ts"
import { gitDirsOf } from "./worktreeLink.ts"

/** The worktree where a fully qualified branch ref is checked out, if any. */
const checkoutOf = (git: GitCli["Service"], repo: string, ref: string) => {
  const known = checkoutOfRef(repo, ref)
  if (known !== undefined) return Effect.succeed(known.at)
  return Effect.map(git.runOk(["worktree", "list", "--porcelain", "-z"], { cwd: repo }), (listing) => {
    let path: string | undefined
    for (const field of listing.split("\0")) {
      if (field.startsWith("worktree ")) path = field.slice("worktree ".length)
      else if (field === `branch ${ref}`) return path
    }
    return undefined
  })
}

/**
 * Makes the merge a preview describes, on the target ref alone, for a target checked out nowhere:
 * `ff-only` moves it to the source, `merge` makes a commit with both parents, `squash` one with the
 * target alone. Fails, changing nothing, when the target is checked out or moved since the
 * preview. Answers the target's new commit.
 */
export const commitMerge = (
  git: GitCli["Service"],
  repo: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string
) =>
  Effect.gen(function* () {
    yield* mergeable(preview, strategy, repo)
    // A checkout of the target would keep its old files and index under the moved branch.
    const checkedOut = yield* checkoutOf(git, repo, preview.target)
    if (checkedOut !== undefined) {
      return yield* new GitError({
        reason: "branch-checked-out",
        message: `${preview.target} is checked out in ${checkedOut}: merge there, so its files move with it.`,
        path: checkedOut
      })
    }
    return yield* commitOnRef(git, repo, preview, strategy, message)
  })

/**
 * Makes the merge where it belongs: in `checkout`, where the target is checked out (inspectTarget
 * found it able to take the merge), else on the ref alone.
 */
export const mergeIntoTarget = (
  git: GitCli["Service"],
  repo: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string,
  checkout: string | undefined
) =>
  checkout === undefined
    ? commitOnRef(git, repo, preview, strategy, message)
    : moveCheckout(git, repo, checkout, preview, strategy, message)

const IN_PROGRESS = ["MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply"]

/** The markers' paths in the checkout's own git dir, read from its `.git` (else asked of git). */
const inProgressPaths = (git: GitCli["Service"], repo: string, checkout: string) => {
  const dirs = gitDirsOf(checkout)
  if (dirs !== undefined) return Effect.succeed(IN_PROGRESS.map((marker) => join(dirs.gitDir, marker)))
  return Effect.map(
    git.runOk(["rev-parse", ...IN_PROGRESS.flatMap((marker) => ["--git-path", marker])], {
      cwd: checkout,
      worktreeOf: repo
    }),
    (out) =>
      out
        .split("\n")
        .filter((path) => path !== "")
        .map((path) => (isAbsolute(path) ? path : join(checkout, path)))
  )
}

/** Changes in a checkout's tracked files and index, as `git status` counts them. */
export type ChangesIn = (checkout: string) => Effect.Effect<number, GitError>

/** git's status of the checkout's tracked files, with its optional lock: the refreshed file times are kept (its index is about to be written anyway). */
const statusOf =
  (git: GitCli["Service"], repo: string): ChangesIn =>
  (checkout) =>
    Effect.map(
      git.runOk(["status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=no"], {
        cwd: checkout,
        worktreeOf: repo,
        env: { GIT_OPTIONAL_LOCKS: "1" }
      }),
      (out) => out.split("\0").filter((entry) => entry !== "").length
    )

/** Why a checkout cannot take a merge now (changes, or a merge or rebase of its own under way), if so. */
const checkoutBusy = (git: GitCli["Service"], repo: string, checkout: string, changesIn: ChangesIn) =>
  Effect.map(
    Effect.all([changesIn(checkout), inProgressPaths(git, repo, checkout)], { concurrency: 2 }),
    ([changed, markers]) => {
      if (changed > 0) return "it has uncommitted changes: commit or stash them first"
      return markers.some((path) => existsSync(path))
        ? "a merge, rebase or cherry-pick is under way there: finish or abort it first"
        : undefined
    }
  )

/**
 * Where a fully qualified target branch is checked out, if anywhere, and why that checkout cannot
 * take a merge now, if so. `changesIn` counts its changes (by default, git's status).
 */
export const inspectTarget = (
  git: GitCli["Service"],
  repo: string,
  ref: string,
  changesIn: ChangesIn = statusOf(git, repo)
) =>
  Effect.gen(function* () {
    const checkout = yield* checkoutOf(git, repo, ref)
    const busy = checkout === undefined ? undefined : yield* checkoutBusy(git, repo, checkout, changesIn)
    return { checkout, busy }
  })

const cannotTake = (checkout: string, why: string, stderr?: string) =>
  new GitError({
    reason: "dirty",
    message: `${checkout} cannot take the merge: ${why}. Nothing was changed.`,
    path: checkout,
    ...(stderr === undefined ? {} : { stderr: stderr.trim() })
  })

const firstLine = (text: string) => text.trim().split("\n")[0]?.slice(0, 200) ?? ""

/**
 * Makes the merge in the checkout where the target is checked out: the checkout must be clean and
 * not mid-merge; its index and files move to the merged commit (a two-tree read-tree, which
 * refuses to overwrite an untracked file), then the branch. A branch that moved meanwhile puts the
 * files back and fails. Answers the target's new commit.
 */
export const commitMergeInCheckout = (
  git: GitCli["Service"],
  repo: string,
  checkout: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string
) =>
  Effect.gen(function* () {
    const busy = yield* checkoutBusy(git, repo, checkout, statusOf(git, repo))
    if (busy !== undefined) return yield* cannotTake(checkout, busy)
    return yield* moveCheckout(git, repo, checkout, preview, strategy, message)
  })

/**
 * commitMergeInCheckout once the checkout is known to be able to take it. The checkout's files and
 * index move (a two-tree read-tree) while the branch moves from its old value; whichever of the
 * two fails, the other is put back, so a refusal changes nothing.
 */
const moveCheckout = (
  git: GitCli["Service"],
  repo: string,
  checkout: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string
) =>
  Effect.gen(function* () {
    const commit = yield* makeCommit(git, repo, preview, strategy, message)
    const at = { cwd: checkout, worktreeOf: repo }
    const [files, ref] = yield* Effect.all(
      [
        git.run(["read-tree", "-m", "-u", preview.targetOid, commit], at),
        Effect.result(moveTarget(git, repo, preview, strategy, commit))
      ],
      { concurrency: 2 }
    )
    if (files.exitCode !== 0) {
      if (ref._tag === "Success") yield* putBack(git, repo, preview, commit)
      return yield* cannotTake(
        checkout,
        `it would overwrite files there (${firstLine(files.stderr)})`,
        files.stderr
      )
    }
    if (ref._tag === "Failure") {
      yield* git
        .run(["read-tree", "-m", "-u", commit, preview.targetOid], at)
        .pipe(Effect.ignore({ log: "Warn", message: "Could not put a checkout back after a refused merge" }))
      return yield* ref.failure
    }
    return commit
  })

/** The target back from `commit` to where the preview found it (only if nothing moved it since). */
const putBack = (git: GitCli["Service"], repo: string, preview: MergePreview, commit: string) =>
  git
    .run(["update-ref", "-m", "spindle: merge refused", preview.target, preview.targetOid, commit], {
      cwd: repo
    })
    .pipe(Effect.ignore({ log: "Warn", message: "Could not put a branch back after a refused merge" }))

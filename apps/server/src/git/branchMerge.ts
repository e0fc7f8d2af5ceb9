// Merging one branch into another without a checkout: what a merge would do (a trial with
// `merge-tree --write-tree`, which writes objects but no ref, index or file), and doing it with
// plumbing (`commit-tree`, then `update-ref` from the target's old value, so a target that moved
// meanwhile fails cleanly instead of losing the move). A rebase's commits are replayed by
// mergeReplay.ts. Refs are always fully qualified.
import { existsSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"
import { checkoutOfRef } from "./worktreeFiles.ts"
import { gitDirsOf } from "./worktreeLink.ts"

export type MergeStrategy = "ff-only" | "merge" | "squash" | "rebase"

/** A conflicting file, and where its conflict markers stand in the merged result (1-based, inclusive). */
export interface MergeConflict {
  readonly path: string
  readonly hunks: ReadonlyArray<{ readonly startLine: number; readonly endLine: number }>
}

export interface MergeFile {
  readonly path: string
  /** Null for a binary file. */
  readonly added: number | null
  readonly removed: number | null
}

export interface MergePreview {
  readonly target: string
  readonly source: string
  readonly targetOid: string
  readonly sourceOid: string
  /** The fork point (merge base) of the two. */
  readonly base: string
  /** The source's commits are already in the target: nothing to merge. */
  readonly upToDate: boolean
  /** The target has not moved since the fork point: it can simply move to the source. */
  readonly fastForward: boolean
  /**
   * The merged tree (written as objects only; for a fast-forward, `<source>^{tree}`, which git
   * reads wherever a tree goes), or null when the merge conflicts.
   */
  readonly tree: string | null
  readonly conflicts: ReadonlyArray<MergeConflict>
  /** What the merge changes in the target. Empty when it conflicts. */
  readonly files: ReadonlyArray<MergeFile>
  /** For a rebase (`withReplay`): the replayed commits' tip, or null when a commit conflicts. */
  readonly replayed?: string | null
}

/** Settings for git calls that write commits: Spindle's own identity, never the user's programs. */
export const SPINDLE_IDENTITY = { "user.name": "Spindle", "user.email": "spindle@localhost" }

const failed = (message: string, stderr: string, path: string) =>
  new GitError({ reason: "command-failed", message, path, stderr: stderr.trim().slice(0, 2000) })

/** The commit a fully qualified ref names, or a GitError naming the ref. */
const commitOf = (git: GitCli["Service"], repo: string, ref: string) =>
  Effect.flatMap(
    git.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], { cwd: repo }),
    (result) =>
      result.exitCode === 0
        ? Effect.succeed(result.stdout.trim())
        : Effect.fail(
            new GitError({
              reason: "base-not-found",
              message: `${ref} does not name a commit in ${repo}.`,
              path: repo
            })
          )
  )

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

/** Line ranges of the conflict markers in a merged file's text. */
export const conflictHunks = (text: string): MergeConflict["hunks"] => {
  const hunks: Array<{ startLine: number; endLine: number }> = []
  let start: number | undefined
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    if (line.startsWith("<<<<<<< ") && start === undefined) start = i + 1
    else if (line.startsWith(">>>>>>> ") && start !== undefined) {
      hunks.push({ startLine: start, endLine: i + 1 })
      start = undefined
    }
  }
  return hunks
}

const parseNumstat = (text: string): ReadonlyArray<MergeFile> =>
  text
    .split("\0")
    .filter((entry) => entry !== "")
    .flatMap((entry) => {
      const [added, removed, path] = entry.split("\t")
      if (path === undefined) return []
      return [
        {
          path,
          added: added === "-" ? null : Number(added),
          removed: removed === "-" ? null : Number(removed)
        }
      ]
    })

/**
 * A three-way merge of two commits on their merge base, written as objects only: the merged tree,
 * or the conflicting files with their hunks.
 */
export const trialMerge = (
  git: GitCli["Service"],
  repo: string,
  ours: string,
  theirs: string,
  what: string
) =>
  Effect.gen(function* () {
    const trial = yield* git.run(
      ["merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", ours, theirs],
      { cwd: repo }
    )
    if (trial.exitCode !== 0 && trial.exitCode !== 1) {
      return yield* failed(`git merge-tree failed for ${what}.`, trial.stderr, repo)
    }
    const [tree = "", ...rest] = trial.stdout.split("\0")
    if (trial.exitCode === 0) return { tree, conflicts: [] as ReadonlyArray<MergeConflict> }
    const paths = [...new Set(rest.slice(0, Math.max(0, rest.indexOf(""))))]
    const conflicts = yield* Effect.forEach(paths, (path) =>
      Effect.map(git.run(["cat-file", "blob", `${tree}:${path}`], { cwd: repo }), (blob) => ({
        path,
        hunks: blob.exitCode === 0 ? conflictHunks(blob.stdout) : []
      }))
    )
    return { tree: null, conflicts }
  })

/** What the merge changes in the target: the numstat from its commit to the merged tree. */
export const mergeFiles = (git: GitCli["Service"], repo: string, preview: MergePreview) =>
  preview.tree === null
    ? Effect.succeed<ReadonlyArray<MergeFile>>([])
    : Effect.map(
        git.runOk(["diff-tree", "-r", "-z", "--numstat", "--no-renames", preview.targetOid, preview.tree], {
          cwd: repo
        }),
        parseNumstat
      )

export interface PreviewOptions {
  /** The two refs' commits when the caller has just read them (under the repository's lock). */
  readonly oids?: { readonly target: string; readonly source: string }
  /** false: leave `files` empty, for a caller that asks mergeFiles alongside the merge itself. */
  readonly files?: boolean
}

/**
 * What merging `source` into `target` (both fully qualified refs) would do. Writes no ref. The
 * fork point and the trial merge are asked together.
 */
export const previewMerge = (
  git: GitCli["Service"],
  repo: string,
  target: string,
  source: string,
  options: PreviewOptions = {}
) =>
  Effect.gen(function* () {
    for (const ref of [target, source]) {
      if (!ref.startsWith("refs/")) {
        return yield* failed(`${ref} is not a fully qualified ref (refs/...).`, "", repo)
      }
    }
    const { target: targetOid, source: sourceOid } =
      options.oids ?? (yield* resolveBoth(git, repo, target, source))
    const baseRun = yield* git.run(["merge-base", "--end-of-options", targetOid, sourceOid], { cwd: repo })
    if (baseRun.exitCode !== 0) {
      return yield* new GitError({
        reason: "base-not-found",
        message: `${source} and ${target} share no history in ${repo}: there is nothing to merge them on.`,
        path: repo
      })
    }
    const base = baseRun.stdout.trim()
    // A fast-forward (or nothing to merge) needs no trial: the result is the source's own tree
    // (the target's, when the source is in its history already).
    const tried =
      base === targetOid || base === sourceOid
        ? { tree: `${base === sourceOid ? targetOid : sourceOid}^{tree}`, conflicts: [] }
        : yield* trialMerge(git, repo, targetOid, sourceOid, `${source} into ${target}`)
    const preview: MergePreview = {
      target,
      source,
      targetOid,
      sourceOid,
      base,
      upToDate: base === sourceOid,
      fastForward: base === targetOid,
      tree: tried.tree,
      conflicts: tried.conflicts,
      files: []
    }
    if (tried.tree === null || options.files === false) return preview
    return { ...preview, files: yield* mergeFiles(git, repo, preview) }
  })

/** Both refs' commits in one call; one that names no commit is then named on its own. */
const resolveBoth = (git: GitCli["Service"], repo: string, target: string, source: string) =>
  Effect.gen(function* () {
    // Fully qualified refs never read as options (rev-parse would echo --end-of-options back).
    const both = yield* git.run(["rev-parse", `${target}^{commit}`, `${source}^{commit}`], { cwd: repo })
    const [targetOid, sourceOid] =
      both.exitCode === 0
        ? both.stdout.trim().split("\n")
        : [yield* commitOf(git, repo, target), yield* commitOf(git, repo, source)]
    if (targetOid === undefined || sourceOid === undefined) {
      return yield* failed(`git rev-parse did not resolve ${target} and ${source}.`, both.stderr, repo)
    }
    return { target: targetOid, source: sourceOid }
  })

/** Checks that a merge may go ahead: it merges cleanly, and fast-forwards when asked to. Answers its tree. */
const mergeable = (preview: MergePreview, strategy: MergeStrategy, repo: string) =>
  Effect.gen(function* () {
    if (preview.tree === null) {
      return yield* new GitError({
        reason: "command-failed",
        message: `${preview.source} does not merge cleanly into ${preview.target}; nothing was changed.`,
        path: repo
      })
    }
    if (strategy === "ff-only" && !preview.fastForward) {
      return yield* new GitError({
        reason: "command-failed",
        message: `${preview.target} moved since ${preview.source} forked from it, so it cannot fast-forward; merge or squash instead.`,
        path: repo
      })
    }
    return preview.tree
  })

/** The commit the merge makes (for ff-only, the source itself), written as an object only. */
const makeCommit = (
  git: GitCli["Service"],
  repo: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string
) =>
  Effect.gen(function* () {
    const tree = yield* mergeable(preview, strategy, repo)
    if (strategy === "ff-only") return preview.sourceOid
    if (strategy === "rebase") {
      if (preview.replayed != null) return preview.replayed
      return yield* new GitError({
        reason: "command-failed",
        message: `A rebase needs the replayed commits (withReplay) of ${preview.source}; nothing was changed.`,
        path: repo
      })
    }
    const parents = ["-p", preview.targetOid, ...(strategy === "merge" ? ["-p", preview.sourceOid] : [])]
    const made = yield* git.runOk(["commit-tree", tree, ...parents, "-m", message], {
      cwd: repo,
      config: SPINDLE_IDENTITY
    })
    return made.trim()
  })

/** Moves the target from the preview's commit to `commit`; fails, moving nothing, when it moved meanwhile. */
const moveTarget = (
  git: GitCli["Service"],
  cwd: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  commit: string
) =>
  Effect.gen(function* () {
    const moved = yield* git.run(
      [
        "update-ref",
        "-m",
        `spindle: ${strategy} ${preview.source}`,
        preview.target,
        commit,
        preview.targetOid
      ],
      { cwd }
    )
    if (moved.exitCode === 0) return
    return yield* new GitError({
      reason: "command-failed",
      message: `${preview.target} moved while it was being merged into; nothing was changed. Try again.`,
      path: cwd,
      stderr: moved.stderr.trim()
    })
  })

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

/** The merge commit, then the target moved to it: the ref alone, no checkout looked at. */
const commitOnRef = (
  git: GitCli["Service"],
  repo: string,
  preview: MergePreview,
  strategy: MergeStrategy,
  message: string
) =>
  Effect.gen(function* () {
    const commit = yield* makeCommit(git, repo, preview, strategy, message)
    yield* moveTarget(git, repo, preview, strategy, commit)
    return commit
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

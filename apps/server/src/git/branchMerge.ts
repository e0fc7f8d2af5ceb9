import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"

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
export const mergeable = (preview: MergePreview, strategy: MergeStrategy, repo: string) =>
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
export const makeCommit = (
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
export const moveTarget = (
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

/** The merge commit, then the target moved to it: the ref alone, no checkout looked at. */
export const commitOnRef = (
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

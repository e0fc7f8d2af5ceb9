// A worktree's present as a commit, taken without touching the worktree: its HEAD, and when asked
// one commit on top of HEAD that holds its uncommitted changes (tracked and untracked, not
// ignored). That commit is built in a temporary index of Spindle's own (GIT_INDEX_FILE in a
// private temp folder: `read-tree` of HEAD, `add -A` with the worktree as work tree, `write-tree`,
// `commit-tree -p HEAD` under Spindle's identity), so the worktree's files and its real index stay
// as they were. It writes objects only (no ref): the branch that starts there is made by whoever
// asked, under the repository's lock. GitCli keeps the repository's programs (hooks, fsmonitor,
// filters) off; git stores a symlink as a link, never following it; files past the size limits are
// refused before anything is written.
import { lstatSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { commitArg } from "./baseRefs.ts"
import { SPINDLE_IDENTITY } from "./branchMerge.ts"
import type { GitCli, GitRunOptions } from "./GitCli.ts"
import { GitError } from "./GitError.ts"

/** The largest single changed file a snapshot takes. */
export const MAX_SNAPSHOT_FILE_BYTES = 100 * 1024 * 1024
/** The most bytes of changed files a snapshot takes in all. */
export const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024

/** Hashing every file again (a fresh index knows no file's stat) may take a while in a big worktree. */
const ADD_TIMEOUT = "2 minutes"

export interface WorktreeSnapshot {
  /** The worktree's HEAD commit. */
  readonly head: string
  /** Where a branch starts: `head`, or the commit of its uncommitted changes on top of it. */
  readonly commit: string
  /** True when `commit` holds uncommitted changes; false when it is `head`. */
  readonly uncommitted: boolean
}

export interface SnapshotOptions {
  /** The repository (its main checkout); the worktree must link into it (GitCli `worktreeOf`). */
  readonly repo: string
  /** The worktree's top level. */
  readonly worktree: string
  /** Take its uncommitted changes too; else the snapshot is its HEAD. */
  readonly includeUncommitted: boolean
  /** The message of the commit of its uncommitted changes. */
  readonly message: string
}

const MIB = 1024 * 1024

/** Paths `git status --porcelain=v1 -z --no-renames` lists: every one whose content may differ from HEAD. */
const changedPaths = (output: string) =>
  output
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3))

/** Why the changed files are too large to take, if they are: sizes read without following a link. */
const tooLarge = (worktree: string, paths: ReadonlyArray<string>) => {
  let total = 0
  for (const path of paths) {
    const stat = (() => {
      try {
        return lstatSync(join(worktree, path))
      } catch {
        return undefined
      }
    })()
    if (stat === undefined || !stat.isFile()) continue
    if (stat.size > MAX_SNAPSHOT_FILE_BYTES) {
      return `${path} holds ${Math.ceil(stat.size / MIB)} MiB, more than the ${MAX_SNAPSHOT_FILE_BYTES / MIB} MiB a snapshot takes of one file`
    }
    total += stat.size
    if (total > MAX_SNAPSHOT_BYTES) {
      return `its changed files hold more than the ${MAX_SNAPSHOT_BYTES / MIB} MiB a snapshot takes in all`
    }
  }
  return undefined
}

/** A private folder for the temporary index, removed whatever happens. */
const privateDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "spindle-snapshot-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The worktree's HEAD and, when asked, a commit of its uncommitted changes on top; writes no ref. */
export const snapshotWorktree = (git: GitCli["Service"], options: SnapshotOptions) =>
  Effect.gen(function* () {
    const { repo, worktree } = options
    const inWorktree: GitRunOptions = { cwd: worktree, worktreeOf: repo }
    const headRun = yield* git.run(
      ["rev-parse", "--verify", "--quiet", "--end-of-options", "HEAD^{commit}"],
      inWorktree
    )
    const head = headRun.stdout.trim()
    if (headRun.exitCode !== 0 || head === "") {
      return yield* new GitError({
        reason: "no-commits",
        path: worktree,
        message: `${worktree} has no commit checked out (its HEAD names none), so there is nothing to start from. Commit there first.`
      })
    }
    const atHead: WorktreeSnapshot = { head, commit: head, uncommitted: false }
    if (!options.includeUncommitted) return atHead

    // Read with the real index as it is (no optional lock taken, so git does not rewrite it).
    const status = yield* git.runOk(
      ["status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--ignore-submodules=none"],
      inWorktree
    )
    const paths = changedPaths(status)
    if (paths.length === 0) return atHead
    const large = tooLarge(worktree, paths)
    if (large !== undefined) {
      return yield* new GitError({
        reason: "too-large",
        path: worktree,
        message: `The uncommitted changes in ${worktree} cannot be taken: ${large}. Commit what the new thread needs (or ignore the large files in .gitignore) and start it again, or start it without the uncommitted changes.`
      })
    }

    return yield* Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* privateDir
        // No split index (its shared part would be written into the repository's git dir).
        const inTemp: GitRunOptions = {
          ...inWorktree,
          indexFile: join(dir, "index"),
          config: { "core.splitIndex": "false", "index.sparse": "false" }
        }
        yield* git.runOk(["read-tree", "--end-of-options", commitArg(head)], inTemp)
        yield* git.runOk([`--work-tree=${worktree}`, "add", "-A"], { ...inTemp, timeout: ADD_TIMEOUT })
        const tree = (yield* git.runOk(["write-tree"], inTemp)).trim()
        const headTree = (yield* git.runOk(
          ["rev-parse", "--verify", "--end-of-options", `${head}^{tree}`],
          inWorktree
        )).trim()
        // Changes that add up to nothing (an edit undone since) leave HEAD as it is.
        if (tree === headTree) return atHead
        const commit = (yield* git.runOk(
          ["commit-tree", "--no-gpg-sign", "-p", commitArg(head), "-m", options.message, tree],
          { cwd: repo, config: SPINDLE_IDENTITY }
        )).trim()
        return { head, commit, uncommitted: true } satisfies WorktreeSnapshot
      })
    )
  })

// Copies the ignored files a repository lists in `.worktreeinclude` (gitignore syntax, e.g.
// `.env`) into a new worktree, as copy-on-write clones where the file system can. Best effort:
// every problem is a warning, never a failure. Nothing that resolves outside the repository is
// read, and nothing is written except a new file inside the worktree: a destination reached
// through a symlink, or one that already exists, is refused.
import { existsSync, constants as fsConstants } from "node:fs"
import { copyFile, lstat, mkdir, realpath } from "node:fs/promises"
import { join, sep } from "node:path"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"

export const INCLUDE_FILE = ".worktreeinclude"

const MAX_FILES = 1_000

export interface IncludeResult {
  readonly copied: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep)

const lstatOrUndefined = (path: string) =>
  lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined
    throw error
  })

/**
 * Makes the folders above `relative` inside `worktree`, one component at a time and without ever
 * following a link: answers why not when a component is a symlink (dangling or not, wherever it
 * points) or not a folder. `mkdir` of a single component fails on anything already there.
 */
const prepareParents = async (worktree: string, relative: string): Promise<string | undefined> => {
  const parts = relative.split("/")
  if (parts.some((part) => part === "" || part === "." || part === "..")) return "not a plain relative path"
  for (let depth = 1; depth < parts.length; depth++) {
    const folder = parts.slice(0, depth).join("/")
    const current = join(worktree, folder)
    const stat = await lstatOrUndefined(current)
    if (stat === undefined) {
      await mkdir(current)
      continue
    }
    if (stat.isSymbolicLink()) return `${folder} is a symlink in the worktree; nothing is copied through it`
    if (!stat.isDirectory()) return `${folder} is not a folder in the worktree`
  }
  return undefined
}

/** Copies one file; answers a warning instead when it must not. */
const copyOne = async (realRepo: string, repo: string, worktree: string, relative: string) => {
  const skipped = (why: string) => `Skipped ${relative} from ${INCLUDE_FILE}: ${why}.`
  const resolved = await realpath(join(repo, relative)).catch(() => undefined)
  if (resolved === undefined || !inside(realRepo, resolved))
    return skipped("it resolves outside the repository")
  if (!(await lstat(resolved)).isFile()) return skipped("not a regular file")
  const refused = await prepareParents(worktree, relative)
  if (refused !== undefined) return skipped(refused)
  const target = join(worktree, relative)
  const existing = await lstatOrUndefined(target)
  if (existing !== undefined) {
    return skipped(
      existing.isSymbolicLink()
        ? "the worktree has a symlink there; nothing is copied through it"
        : "the worktree already has it (checked out from the base branch), and it is never overwritten"
    )
  }
  // EXCL: fails if anything appeared there meanwhile, a dangling symlink included (O_CREAT|O_EXCL).
  // FICLONE: a copy-on-write clone where the file system has them (btrfs, XFS, APFS), which costs
  // no disk until either side changes; a plain copy elsewhere.
  await copyFile(resolved, target, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE)
  return undefined
}

export const copyIncludedFiles = (git: GitCli["Service"], repo: string, worktree: string) =>
  Effect.gen(function* () {
    const copied: Array<string> = []
    const warnings: Array<string> = []
    if (!existsSync(join(repo, INCLUDE_FILE))) return { copied, warnings } satisfies IncludeResult
    // Untracked files matching the include patterns, then keep only those the repository ignores.
    const listed = yield* git.runOk(
      ["ls-files", "--others", "--ignored", "-z", `--exclude-from=${INCLUDE_FILE}`],
      { cwd: repo }
    )
    const candidates = listed.split("\0").filter((path) => path !== "")
    if (candidates.length === 0) return { copied, warnings } satisfies IncludeResult
    const checked = yield* git.runOk(
      [
        "--literal-pathspecs",
        "ls-files",
        "--others",
        "--ignored",
        "--exclude-standard",
        "-z",
        "--",
        ...candidates.slice(0, MAX_FILES)
      ],
      { cwd: repo }
    )
    const ignored = checked.split("\0").filter((path) => path !== "")
    if (candidates.length > MAX_FILES) {
      warnings.push(
        `${INCLUDE_FILE} matches ${candidates.length} files; only the first ${MAX_FILES} were considered.`
      )
    }
    const [realRepo, realWorktree] = yield* Effect.tryPromise({
      try: () => Promise.all([realpath(repo), realpath(worktree)]),
      catch: (error) => error as Error
    })
    for (const relative of ignored) {
      const outcome = yield* Effect.promise(() => copyOne(realRepo, repo, realWorktree, relative)).pipe(
        Effect.catchDefect((error) =>
          Effect.succeed(
            `Could not copy ${relative} from ${INCLUDE_FILE}: ${(error as Error).message ?? String(error)}`
          )
        )
      )
      if (outcome === undefined) copied.push(relative)
      else warnings.push(outcome)
    }
    return { copied, warnings } satisfies IncludeResult
  }).pipe(
    Effect.catch((error) =>
      Effect.succeed({
        copied: [],
        warnings: [`Could not read ${INCLUDE_FILE}: ${error.message}`]
      } satisfies IncludeResult)
    )
  )

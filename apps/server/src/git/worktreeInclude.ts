// Copies the ignored files a repository lists in `.worktreeinclude` (gitignore syntax, e.g.
// `.env`) into a new worktree. Best effort: every problem is a warning, never a failure. Nothing
// that resolves outside the repository is read, and nothing is written except a new file inside
// the worktree: a destination reached through a symlink, or one that already exists, is refused.
// Both ends are checked on open handles, not on paths (a path checked and then copied could be
// swapped for a symlink in between): the source is opened without following a final symlink and
// must be, by device and inode, the file its path resolves to inside the repository; the
// destination is created exclusively, checked the same way, and written through its handle.
import { existsSync, constants as fsConstants, type Stats } from "node:fs"
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from "node:fs/promises"
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

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fsConstants

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino

/**
 * Whether the file open as `handle` lies inside `root`. On Linux the kernel says where the open
 * file is (`/proc/self/fd/<fd>`), which no later swap of a folder above it can change. Elsewhere:
 * whether it is, by device and inode, the file `path` resolves to now (a check that a folder
 * swapped between the realpath and the lstat could still pass).
 */
const resolvesTo = async (handle: FileHandle, path: string, root: string) => {
  const where = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined)
  if (where !== undefined) return where.startsWith("/") && inside(root, where)
  const resolved = await realpath(path).catch(() => undefined)
  if (resolved === undefined || !inside(root, resolved)) return false
  const [opened, atPath] = await Promise.all([handle.stat(), lstat(resolved).catch(() => undefined)])
  return atPath !== undefined && sameFile(opened, atPath)
}

const copyContents = async (from: FileHandle, to: FileHandle) => {
  const buffer = Buffer.allocUnsafe(1 << 16)
  let position = 0
  while (true) {
    const { bytesRead } = await from.read(buffer, 0, buffer.length, position)
    if (bytesRead === 0) return
    let written = 0
    while (written < bytesRead) {
      written += (await to.write(buffer, written, bytesRead - written, position + written)).bytesWritten
    }
    position += bytesRead
  }
}

/** Opens `path` for reading unless it is a symlink (ELOOP) or gone; NONBLOCK: a FIFO cannot hang it. */
const openNoFollow = (path: string) =>
  open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ELOOP" || error.code === "ENOENT" || error.code === "ENXIO") return error.code
    throw error
  })

/** Copies one file; answers a warning instead when it must not. */
const copyOne = async (realRepo: string, repo: string, worktree: string, relative: string) => {
  const skipped = (why: string) => `Skipped ${relative} from ${INCLUDE_FILE}: ${why}.`
  const path = join(repo, relative)
  let source = await openNoFollow(path)
  if (source === "ELOOP") {
    // A symlink: the file it resolves to is copied when that is inside the repository, opened the
    // same way (and checked against the link below, in case either changed meanwhile).
    const resolved = await realpath(path).catch(() => undefined)
    if (resolved === undefined || !inside(realRepo, resolved))
      return skipped("it resolves outside the repository")
    source = await openNoFollow(resolved)
  }
  if (typeof source === "string") return skipped("it is gone, a symlink that moved, or not a regular file")
  try {
    const stat = await source.stat()
    if (!stat.isFile()) return skipped("not a regular file")
    // A folder above it may be a symlink (or just have been swapped for one).
    if (!(await resolvesTo(source, path, realRepo))) return skipped("it resolves outside the repository")
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
    // EXCL|NOFOLLOW: fails if anything appeared there meanwhile, a dangling symlink included.
    const destination = await open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
    try {
      // A folder above it swapped for a symlink since prepareParents: what was created lies
      // elsewhere, and stays empty.
      if (!(await resolvesTo(destination, target, worktree)))
        return skipped("a folder above it in the worktree changed while copying; nothing was written")
      await copyContents(source, destination)
      await destination.chmod(stat.mode & 0o777)
      return undefined
    } finally {
      await destination.close()
    }
  } finally {
    await source.close()
  }
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
      const outcome = yield* Effect.tryPromise({
        try: () => copyOne(realRepo, repo, realWorktree, relative),
        catch: (error) =>
          `Could not copy ${relative} from ${INCLUDE_FILE}: ${(error as Error).message ?? String(error)}`
      }).pipe(Effect.catch((warning) => Effect.succeed(warning)))
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

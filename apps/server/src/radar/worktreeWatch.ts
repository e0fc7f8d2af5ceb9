// Watches a worktree (a live thread's, for the conflict radar; a merge's target checkout, for
// CleanCheckouts): every folder of it (a watch per folder, as pool/slotWatch.ts does) and its admin
// folder in the repository (HEAD, index: commits and checkouts), calling `onChange` on any event. Folders git ignores (node_modules, build output) and
// `.git` are not watched: nothing in them changes a footprint. Symbolic links are never followed,
// so a link an agent plants cannot lead the watch out of the worktree; a folder created later is
// watched once seen. Past `maxFolders` the watch gives up (`onOverflow`), since watches are a
// limited resource shared by the whole host. It only says "something changed"; what changed is
// git's to say.
import { type FSWatcher, lstatSync, watch } from "node:fs"
import { lstat, readdir } from "node:fs/promises"
import { join, relative, resolve, sep } from "node:path"
import * as Effect from "effect/Effect"
import type { GitCli } from "../git/GitCli.ts"
import { linkedGitDir } from "../git/worktreeFiles.ts"

export interface WorktreeWatch {
  readonly folders: () => number
  /** Events heard since the watch was set (folders made, and files written, moved or removed in them). */
  readonly changes: () => number
  readonly close: () => void
}

export interface WatchOptions {
  readonly onChange: () => void
  /** Too many folders, or the worktree went away: the watch closed itself. */
  readonly onOverflow: (why: string) => void
  readonly maxFolders: number
  /** Folders (relative to the worktree, no trailing slash) git ignores: not watched. */
  readonly ignored: ReadonlySet<string>
  /** The repository the worktree belongs to: only an admin folder inside its .git is watched. */
  readonly repo: string
}

/**
 * The worktree's admin folder: for a linked worktree, the one its .git file names inside the
 * repository's .git/worktrees; for the repository's own checkout, its .git folder.
 */
const adminFolder = (worktree: string, repo: string) => {
  try {
    if (resolve(worktree) === resolve(repo)) {
      const own = join(repo, ".git")
      return lstatSync(own).isDirectory() ? resolve(own) : undefined
    }
    const admin = linkedGitDir(worktree)
    const root = join(repo, ".git", "worktrees") + sep
    return admin !== undefined && resolve(admin).startsWith(root) ? resolve(admin) : undefined
  } catch {
    return undefined
  }
}

/** Folders git ignores as a whole in a worktree (node_modules, build output): no watch needs them. */
export const ignoredFolders = (git: GitCli["Service"], worktree: string, repo: string) =>
  git
    .run(["ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"], {
      cwd: worktree,
      worktreeOf: repo
    })
    .pipe(
      Effect.map((r) =>
        r.exitCode === 0
          ? new Set(
              r.stdout
                .split("\0")
                .filter((p) => p.endsWith("/"))
                .map((p) => p.slice(0, -1))
            )
          : new Set<string>()
      ),
      Effect.orElseSucceed(() => new Set<string>())
    )

/** More folders than this in one worktree: it is not watched (its turn items still update it). */
export const MAX_WATCHED_FOLDERS = 10_000

export const watchWorktree = async (path: string, options: WatchOptions): Promise<WorktreeWatch> => {
  const watchers = new Map<string, FSWatcher>()
  let closed = false
  let changes = 0
  const changed = () => {
    changes++
    options.onChange()
  }
  const close = () => {
    if (closed) return
    closed = true
    // Removing watches is slow in the kernel: a few at a time, off the caller's path.
    const all = [...watchers.values()]
    watchers.clear()
    const release = () => {
      for (const watcher of all.splice(0, 100)) watcher.close()
      if (all.length > 0) setImmediate(release)
    }
    setImmediate(release)
  }
  const overflow = (why: string) => {
    if (closed) return
    close()
    options.onOverflow(why)
  }
  const skipped = (folder: string) => {
    const rel = relative(path, folder)
    return rel === ".git" || rel.endsWith(`${sep}.git`) || options.ignored.has(rel.split(sep).join("/"))
  }
  const add = (folder: string, recurse: boolean) => {
    if (closed || watchers.has(folder)) return
    if (watchers.size >= options.maxFolders) return overflow(`more than ${options.maxFolders} folders`)
    let watcher: FSWatcher
    try {
      watcher = watch(folder, { persistent: false }, (_event, name) => {
        changed()
        // A folder created (or moved in) since: watch it too, without following a link.
        if (recurse && typeof name === "string" && name !== "") void addTree(join(folder, name), true)
      })
    } catch (error) {
      // Out of watches (ENOSPC) or the like: a partial watch would miss changes, so none at all.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return
      return overflow(`cannot watch ${folder}: ${(error as Error).message}`)
    }
    watcher.on("error", () => {
      watchers.get(folder)?.close()
      watchers.delete(folder)
      changed()
    })
    watchers.set(folder, watcher)
  }
  const addTree = async (folder: string, fresh: boolean): Promise<void> => {
    if (closed || watchers.has(folder) || skipped(folder)) return
    try {
      const info = await lstat(folder)
      if (!info.isDirectory()) return
      add(folder, true)
      // Files written in a new folder before its watch was set are heard of now.
      if (fresh && watchers.has(folder)) changed()
      const entries = await readdir(folder, { withFileTypes: true })
      // Dirent.isDirectory() is false for a symbolic link: links are not followed.
      await Promise.all(
        entries.filter((e) => e.isDirectory()).map((e) => addTree(join(folder, e.name), fresh))
      )
    } catch {
      // Gone meanwhile: its parent's watch saw that.
    }
  }
  const admin = adminFolder(path, options.repo)
  if (admin !== undefined) add(admin, false)
  await addTree(path, false)
  if (!watchers.has(path) && !closed) overflow(`${path} is not a folder`)
  return { folders: () => watchers.size, changes: () => changes, close }
}

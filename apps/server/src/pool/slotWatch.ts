// Watches a pool slot between the check that found it clean and its claim, so the claim can trust
// that check instead of running `git status` again (which stats every file: ~50 ms for 20,000
// files, most of a warm start). Every folder of the slot and its admin folder in the repository
// (HEAD, index) get a file-system watch; any event at all, or any error, marks the slot touched,
// and a touched or unwatched slot is checked in full at its claim, as before. A slot with more
// folders than the limit is not watched (the watches are a shared, limited resource).
import { type FSWatcher, watch } from "node:fs"
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import { linkedGitDir } from "../git/worktreeFiles.ts"

export interface SlotWatch {
  /** Whether anything changed (or the watch failed) since it was armed; true once closed. */
  readonly touched: () => boolean
  /** Stops the watch at once; its watches are released in the background. */
  readonly close: () => void
}

/** More folders than this in one slot: it is not watched. */
export const MAX_WATCHED_FOLDERS = 10_000

/** Arms a watch on the slot at `path` (a linked worktree); undefined when it cannot be watched. */
export const watchSlot = async (
  path: string,
  maxFolders = MAX_WATCHED_FOLDERS
): Promise<SlotWatch | undefined> => {
  const watchers: Array<FSWatcher> = []
  let touched = false
  let closed = false
  // Removing a watch is slow in the kernel (about 8 ms for 1,000 folders), so a slot being
  // claimed stops counting at once and lets its watches go later, a few at a time.
  const close = () => {
    if (closed) return
    closed = true
    const release = () => {
      for (const watcher of watchers.splice(0, 100)) watcher.close()
      if (watchers.length > 0) setImmediate(release)
    }
    setTimeout(release, 1000).unref()
  }
  const add = (folder: string) => {
    if (closed) return
    const watcher = watch(folder, { persistent: false }, () => {
      touched = true
    })
    watcher.on("error", () => {
      touched = true
    })
    watchers.push(watcher)
    if (watchers.length > maxFolders) throw new Error("too many folders")
  }
  const walk = async (folder: string): Promise<void> => {
    add(folder)
    const entries = await readdir(folder, { withFileTypes: true })
    await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => walk(join(folder, e.name))))
  }
  try {
    const admin = linkedGitDir(path)
    if (admin === undefined) return undefined
    add(admin)
    await walk(path)
  } catch {
    close()
    return undefined
  }
  return { touched: () => touched || closed, close }
}

/** Lets file-system events that already happened reach their watchers (two turns of the loop). */
export const settleWatches = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)))

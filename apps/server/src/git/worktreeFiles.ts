// Two steps of placing a pool slot done on git's files, as gitrepository-layout documents them,
// so a start from the pool spends no git process on them: moving a linked worktree (the folder
// renamed, then its admin folder's `gitdir` pointed at the new place, in the order `git worktree
// move` uses) and pointing its HEAD at a branch (HEAD.lock written, then renamed over HEAD).
// Anything out of the ordinary (a relative or missing link, a locked worktree, a lock held)
// answers false before anything is changed, and the caller asks git, which stays the authority.
import { existsSync } from "node:fs"
import { lstat, mkdir, readFile, realpath, rename, rm, writeFile } from "node:fs/promises"
import { basename, dirname, isAbsolute, join } from "node:path"

/** The admin folder (`<repo>/.git/worktrees/<id>`) of a plainly linked worktree, else undefined. */
const adminDirOf = async (worktree: string) => {
  const dotGit = join(worktree, ".git")
  if (!(await lstat(dotGit)).isFile()) return undefined
  const link = /^gitdir: (.+)\n?$/.exec(await readFile(dotGit, "utf8"))?.[1]
  if (link === undefined || !isAbsolute(link)) return undefined
  const back = (await readFile(join(link, "gitdir"), "utf8")).trim()
  if (!isAbsolute(back) || (await realpath(back)) !== (await realpath(dotGit))) return undefined
  if (existsSync(join(link, "locked"))) return undefined
  return link
}

/** Writes `content` to `file` through `file.lock` (refused when the lock exists), as git does. */
const replaceThroughLock = async (file: string, content: string) => {
  const lock = `${file}.lock`
  await writeFile(lock, content, { flag: "wx" })
  try {
    await rename(lock, file)
  } catch (error) {
    await rm(lock, { force: true })
    throw error
  }
}

/** Moves the linked worktree at `from` to `to` (which must not exist); false when git should. */
export const moveWorktree = async (from: string, to: string): Promise<boolean> => {
  const admin = await adminDirOf(from).catch(() => undefined)
  if (admin === undefined || existsSync(to)) return false
  await mkdir(dirname(to), { recursive: true })
  const target = join(await realpath(dirname(to)), basename(to))
  await rename(from, target)
  try {
    await replaceThroughLock(join(admin, "gitdir"), `${join(target, ".git")}\n`)
  } catch (error) {
    await rename(target, from)
    throw error
  }
  return true
}

/** Points the linked worktree's HEAD at `refs/heads/<branch>`; false when git should. */
export const pointHeadAt = async (worktree: string, branch: string): Promise<boolean> => {
  const admin = await adminDirOf(worktree).catch(() => undefined)
  if (admin === undefined) return false
  return replaceThroughLock(join(admin, "HEAD"), `ref: refs/heads/${branch}\n`).then(
    () => true,
    () => false
  )
}

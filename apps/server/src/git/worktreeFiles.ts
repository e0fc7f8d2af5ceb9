// Steps done on git's files, as gitrepository-layout documents them, so a hot path spends no git
// process on them: moving a linked worktree (the folder renamed, then its admin folder's `gitdir`
// pointed at the new place, in the order `git worktree move` uses), pointing its HEAD at a branch
// (HEAD.lock written, then renamed over HEAD), and finding where a branch is checked out.
// Anything out of the ordinary (a relative or missing link, a locked worktree, a lock held, a
// config that moves the work tree) answers false or undefined before anything is changed, and the
// caller asks git, which stays the authority.
// Synchronous: a handful of metadata operations on local files, cheaper than the thread pool.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { basename, dirname, isAbsolute, join } from "node:path"

/** Where a linked worktree's `.git` file points (its admin folder), as written; throws if unreadable. */
export const linkedGitDir = (worktree: string) =>
  /^gitdir: (.+)\n?$/.exec(readFileSync(join(worktree, ".git"), "utf8"))?.[1]

/** The admin folder (`<repo>/.git/worktrees/<id>`) of a plainly linked worktree, else undefined. */
const adminDirOf = (worktree: string) => {
  const dotGit = join(worktree, ".git")
  if (!lstatSync(dotGit).isFile()) return undefined
  const link = linkedGitDir(worktree)
  if (link === undefined || !isAbsolute(link)) return undefined
  const back = readFileSync(join(link, "gitdir"), "utf8").trim()
  if (!isAbsolute(back) || realpathSync(back) !== realpathSync(dotGit)) return undefined
  if (existsSync(join(link, "locked"))) return undefined
  return link
}

const orUndefined = <A>(f: () => A) => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** Writes `content` to `file` through `file.lock` (refused when the lock exists), as git does. */
const replaceThroughLock = (file: string, content: string) => {
  const lock = `${file}.lock`
  writeFileSync(lock, content, { flag: "wx" })
  try {
    renameSync(lock, file)
  } catch (error) {
    rmSync(lock, { force: true })
    throw error
  }
}

/** Moves the linked worktree at `from` to `to` (which must not exist); false when git should. */
export const moveWorktree = (from: string, to: string): boolean => {
  const admin = orUndefined(() => adminDirOf(from))
  if (admin === undefined || existsSync(to)) return false
  mkdirSync(dirname(to), { recursive: true })
  const target = join(realpathSync(dirname(to)), basename(to))
  renameSync(from, target)
  try {
    replaceThroughLock(join(admin, "gitdir"), `${join(target, ".git")}\n`)
  } catch (error) {
    renameSync(target, from)
    throw error
  }
  return true
}

/** Points the linked worktree's HEAD at `refs/heads/<branch>`; false when git should. */
export const pointHeadAt = (worktree: string, branch: string): boolean => {
  const admin = orUndefined(() => adminDirOf(worktree))
  if (admin === undefined) return false
  try {
    replaceThroughLock(join(admin, "HEAD"), `ref: refs/heads/${branch}\n`)
    return true
  } catch {
    return false
  }
}

/**
 * Where `ref` (fully qualified) is checked out, from the HEAD files of the repository's main
 * checkout and of each linked worktree, as `git worktree list` would say: `{ at: path }`, or
 * `{ at: undefined }` for nowhere. Undefined when git should be asked: the repository is not a
 * plain checkout with a `.git` folder, its config names a work tree or a bare repository, or a
 * linked worktree's files are not as git writes them.
 */
export const checkoutOfRef = (repo: string, ref: string): { readonly at: string | undefined } | undefined =>
  orUndefined(() => {
    const gitDir = join(repo, ".git")
    if (!lstatSync(gitDir).isDirectory()) return undefined
    const config = readFileSync(join(gitDir, "config"), "utf8")
    if (/^\s*worktree\s*=/im.test(config) || /^\s*bare\s*(=\s*(true|yes|on|1)\s*)?$/im.test(config)) {
      return undefined
    }
    const headOf = (dir: string) => {
      const head = readFileSync(join(dir, "HEAD"), "utf8")
      return head.startsWith("ref: ") ? head.slice(5).trim() : undefined
    }
    if (headOf(gitDir) === ref) return { at: repo }
    const linked = join(gitDir, "worktrees")
    if (!existsSync(linked)) return { at: undefined }
    for (const entry of readdirSync(linked, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const admin = join(linked, entry.name)
      if (headOf(admin) !== ref) continue
      const link = readFileSync(join(admin, "gitdir"), "utf8").trim()
      if (!isAbsolute(link) || basename(link) !== ".git") return undefined
      return { at: dirname(link) }
    }
    return { at: undefined }
  })

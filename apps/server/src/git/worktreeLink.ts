// Where a checkout's git directories are, read from its files without running git, and whether a
// thread's worktree still links into its project's own repository. A worktree's `.git` file (and
// its admin folder's `commondir`) are the agent's to write: pointed at a git dir of its making,
// they would make git read that dir's config (fsmonitor, hooks, drivers) for whoever runs git
// there, so GitCli checks the link before it runs git in a worktree.
import { lstatSync, readFileSync, realpathSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { linkedGitDir } from "./worktreeFiles.ts"

export interface GitDirs {
  /** The checkout's own git dir: `<repo>/.git`, or a linked worktree's admin folder. */
  readonly gitDir: string
  /** The common git dir it shares with its repository's other worktrees. */
  readonly common: string
}

const attempt = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch {
    return undefined
  }
}

/** The git dirs (real paths) of the checkout whose top level is `cwd`; undefined when it has none. */
export const gitDirsOf = (cwd: string): GitDirs | undefined =>
  attempt(() => {
    const dotGit = join(cwd, ".git")
    const stat = lstatSync(dotGit)
    if (stat.isDirectory()) {
      const real = realpathSync(dotGit)
      return { gitDir: real, common: real }
    }
    const link = stat.isFile() ? linkedGitDir(cwd) : undefined
    if (link === undefined) return undefined
    const gitDir = realpathSync(resolve(cwd, link))
    const commondir = attempt(() => readFileSync(join(gitDir, "commondir"), "utf8").trim())
    const common =
      commondir === undefined || commondir === "" ? gitDir : realpathSync(resolve(gitDir, commondir))
    return { gitDir, common }
  })

/**
 * Why git must not run in `worktree` as a checkout of `repo`, or undefined when its `.git` links
 * into `repo`'s common git dir (as `<common>/worktrees/<name>`, whose `gitdir` points back), or it
 * is `repo`'s own checkout. A folder that is gone is left to git, which fails there by itself.
 */
export const foreignGitDir = (worktree: string, repo: string): string | undefined => {
  const own = gitDirsOf(repo)
  const real = attempt(() => realpathSync(worktree))
  if (own === undefined || real === undefined) return undefined
  if (real === attempt(() => realpathSync(repo))) return undefined
  const dirs = gitDirsOf(real)
  const where = `the git dir of the project's repository (${own.common})`
  if (dirs === undefined) return `${real} has no .git link into ${where}`
  if (dirs.common !== own.common || dirname(dirs.gitDir) !== join(own.common, "worktrees")) {
    return `${real}'s .git points at ${dirs.gitDir}${dirs.common === dirs.gitDir ? "" : ` (common dir ${dirs.common})`}, not into ${where}`
  }
  const back = attempt(() => realpathSync(readFileSync(join(dirs.gitDir, "gitdir"), "utf8").trim()))
  if (back !== join(real, ".git")) return `${dirs.gitDir} is the git dir of another worktree, not of ${real}`
  return undefined
}

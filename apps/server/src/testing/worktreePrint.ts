// A worktree's exact state, for tests that check Spindle left it alone: every entry under it (a
// file's bytes and mode, a symlink's target, a folder), its real index file (bytes and mtime) and
// `git status --porcelain`, read without git rewriting the index. Not shipped.
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs"
import { join } from "node:path"

const entries = (root: string, dir = ""): Array<[string, string]> =>
  readdirSync(join(root, dir))
    .sort()
    .flatMap((name): Array<[string, string]> => {
      const relative = dir === "" ? name : `${dir}/${name}`
      const path = join(root, relative)
      const stat = lstatSync(path)
      if (stat.isSymbolicLink()) return [[relative, `link ${readlinkSync(path)}`]]
      if (stat.isDirectory()) return [[relative, "dir"], ...entries(root, relative)]
      const digest = createHash("sha256").update(readFileSync(path)).digest("hex")
      return [[relative, `file ${(stat.mode & 0o777).toString(8)} ${digest}`]]
    })

/** git without optional locks, so a status does not refresh (rewrite) the index it reads. */
const quietGit = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" }
  }).toString()

export const worktreePrint = (worktree: string) => {
  const index = quietGit(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").trim()
  const indexStat = lstatSync(index)
  return {
    files: Object.fromEntries(entries(worktree)),
    index: {
      sha256: createHash("sha256").update(readFileSync(index)).digest("hex"),
      mtimeNs: lstatSync(index, { bigint: true }).mtimeNs.toString(),
      size: indexStat.size
    },
    status: quietGit(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all"),
    head: quietGit(worktree, "rev-parse", "HEAD").trim()
  }
}

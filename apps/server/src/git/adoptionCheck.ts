// Whether a folder may be adopted as an `existing_worktree`: it lies under a directory the user
// allows (the project's checkout's parent, Spindle's worktrees root, the server's extra roots),
// outside the warm pool and the rest of Spindle's home, and its registration holds from both
// sides on disk (its `.git` file names `<common>/worktrees/<id>`, whose `gitdir` names it back).
// `git worktree list` alone trusts the admin folder's `gitdir`, which anyone who can write the
// shared `.git` can point anywhere. Paths are compared real (symlinks resolved). The check itself
// is synchronous (a handful of metadata reads); git is asked only for the common git dir.
import { lstatSync, readFileSync, realpathSync } from "node:fs"
import { dirname, isAbsolute, join, resolve, sep } from "node:path"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import { GitError } from "./GitError.ts"

export interface AdoptionRoots {
  /** Spindle's home (`--home`): never adoptable, nor anything in it but the worktrees root. */
  readonly home: string
  /** `<home>/worktrees`. */
  readonly worktreesRoot: string
  /** `<home>/worktrees/.pool`: the pool's own slots, never adoptable. */
  readonly poolRoot: string
  /** Directories the user added with `--worktree-root`. */
  readonly extraRoots: ReadonlyArray<string>
}

export type AdoptionVerdict =
  | { readonly _tag: "ok" }
  | { readonly _tag: "not-allowed"; readonly message: string }
  | { readonly _tag: "unconfirmed"; readonly message: string }

const real = (path: string) => {
  try {
    return realpathSync(path)
  } catch {
    return resolve(path)
  }
}

/** `child` is strictly inside `parent` (both real). */
const inside = (parent: string, child: string) =>
  child.startsWith(parent.endsWith(sep) ? parent : parent + sep)

const readLink = (file: string, prefix: string) => {
  try {
    const text = readFileSync(file, "utf8")
    return text.startsWith(prefix) ? text.slice(prefix.length).trim() : undefined
  } catch {
    return undefined
  }
}

/**
 * The verdict for adopting `path` (real) as a worktree of the repository whose main checkout is
 * `repo` and common git dir is `commonDir` (both real).
 */
export const checkAdoption = (
  roots: AdoptionRoots,
  repo: string,
  commonDir: string,
  path: string
): AdoptionVerdict => {
  const home = real(roots.home)
  const worktreesRoot = real(roots.worktreesRoot)
  const allowed = [dirname(repo), worktreesRoot, ...roots.extraRoots.map(real)]
  const widen = `Pass a worktree under ${allowed.join(", ")}, or let the server adopt from another directory with 'spindle serve --worktree-root <dir>' (SPINDLE_WORKTREE_ROOTS, config worktreeRoots).`
  if (path === home || inside(path, home)) {
    return {
      _tag: "not-allowed",
      message: `${path} holds Spindle's home (${home}); it is never adopted as a worktree. ${widen}`
    }
  }
  if (path === real(roots.poolRoot) || inside(real(roots.poolRoot), path)) {
    return {
      _tag: "not-allowed",
      message: `${path} is a slot of the warm worktree pool, which Spindle refills and discards; it is never adopted. Use mode new_worktree (it takes a slot when one is ready).`
    }
  }
  if (inside(home, path) && !inside(worktreesRoot, path)) {
    return {
      _tag: "not-allowed",
      message: `${path} is inside Spindle's home (${home}) but not its worktrees; it is never adopted. ${widen}`
    }
  }
  if (!allowed.some((root) => inside(root, path))) {
    return {
      _tag: "not-allowed",
      message: `${path} is outside the directories worktrees are adopted from. ${widen}`
    }
  }
  const unconfirmed = (why: string) =>
    ({
      _tag: "unconfirmed",
      message: `${path} is not confirmed as a worktree of ${repo}: ${why}. Adopt only worktrees made with 'git worktree add' (or by Spindle); repair a moved one with 'git worktree repair'.`
    }) as const
  const dotGit = join(path, ".git")
  let isFile = false
  try {
    isFile = lstatSync(dotGit).isFile()
  } catch {
    return unconfirmed("it has no .git file")
  }
  if (!isFile) return unconfirmed("its .git is not a file linking it to the repository")
  const link = readLink(dotGit, "gitdir: ")
  if (link === undefined || link === "") return unconfirmed("its .git file does not name a git directory")
  const admin = real(isAbsolute(link) ? link : resolve(path, link))
  if (dirname(admin) !== join(commonDir, "worktrees")) {
    return unconfirmed(`its .git file points at ${admin}, not into ${join(commonDir, "worktrees")}`)
  }
  const back = readLink(join(admin, "gitdir"), "")
  if (back === undefined || back === "") return unconfirmed(`${join(admin, "gitdir")} cannot be read`)
  if (real(isAbsolute(back) ? back : resolve(admin, back)) !== real(dotGit)) {
    return unconfirmed(`${join(admin, "gitdir")} names ${back}, not ${dotGit}`)
  }
  return { _tag: "ok" }
}

/**
 * Fails with `worktree-not-allowed` or `worktree-unconfirmed` unless `path` (real; a linked
 * worktree `git worktree list` gives for `repo`) may be adopted; `given` is the path as asked.
 */
export const confirmAdoptable = (
  git: GitCli["Service"],
  roots: AdoptionRoots,
  repo: string,
  path: string,
  given: string
) =>
  Effect.gen(function* () {
    const common = yield* git.runOk(["rev-parse", "--path-format=absolute", "--git-common-dir"], {
      cwd: repo
    })
    const verdict = checkAdoption(roots, repo, real(common.trim()), path)
    if (verdict._tag === "ok") return
    return yield* new GitError({
      reason: verdict._tag === "not-allowed" ? "worktree-not-allowed" : "worktree-unconfirmed",
      path: given,
      message: verdict.message
    })
  })

// Reads a ref's object id straight from git's "files" ref store (a loose ref file, else
// packed-refs), as documented in gitrepository-layout, so resolving the base of every start does
// not cost a git process. Anything out of the ordinary (a `.git` file rather than a folder, the
// reftable store, a symbolic ref, a name that is not plain, an unreadable file) answers
// undefined, and the caller asks git, which stays the authority.
import { lstatSync, readFileSync } from "node:fs"
import { join } from "node:path"

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/

/** Names read from disk only when they are plainly safe as a path under refs/. */
const plainName = (branch: string) =>
  /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch) &&
  branch.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock")) &&
  !branch.includes("..")

// Synchronous: a few reads of small local files cost less than a trip through libuv's thread pool.
const readOrUndefined = (path: string) => {
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR" ? "" : undefined
  }
}

export const readBranchCommit = (repo: string, branch: string): string | undefined =>
  readRefId(repo, `refs/heads/${branch}`) ?? undefined

/**
 * The object id of the full ref `ref` (`refs/tags/v1`), null when the store plainly has no such
 * ref, undefined when git must be asked.
 */
export const readRefId = (repo: string, ref: string): string | null | undefined => {
  try {
    if (!ref.startsWith("refs/") || !plainName(ref.slice("refs/".length))) return undefined
    const gitDir = join(repo, ".git")
    if (!lstatSync(gitDir).isDirectory()) return undefined
    if (readOrUndefined(join(gitDir, "commondir")) !== "") return undefined
    if (lstatSync(join(gitDir, "reftable"), { throwIfNoEntry: false }) !== undefined) return undefined
    const loose = readOrUndefined(join(gitDir, ...ref.split("/")))
    if (loose === undefined) return undefined
    if (loose !== "") {
      const id = loose.trim()
      return OBJECT_ID.test(id) ? id : undefined
    }
    const packed = readOrUndefined(join(gitDir, "packed-refs"))
    if (packed === undefined) return undefined
    const wanted = ` ${ref}`
    for (const line of packed.split("\n")) {
      if (!line.endsWith(wanted)) continue
      const id = line.slice(0, line.length - wanted.length)
      return OBJECT_ID.test(id) ? id : undefined
    }
    return null
  } catch {
    return undefined
  }
}

/**
 * Whether `name` is a remote of the repository, from its files: a `[remote "<name>"]` section in
 * .git/config or remote-tracking refs under refs/remotes/<name>/. Undefined when git must be asked
 * (not a plain repository, or config it includes from elsewhere).
 */
export const isRemoteName = (repo: string, name: string): boolean | undefined => {
  try {
    if (!plainName(name) || name.includes("/")) return undefined
    const gitDir = join(repo, ".git")
    if (!lstatSync(gitDir).isDirectory()) return undefined
    if (readOrUndefined(join(gitDir, "commondir")) !== "") return undefined
    if (lstatSync(join(gitDir, "reftable"), { throwIfNoEntry: false }) !== undefined) return undefined
    const config = readOrUndefined(join(gitDir, "config"))
    // Included files and the old `[remote.name]` spelling are left to git.
    if (config === undefined || /^\s*\[(include|remote\.)/im.test(config)) return undefined
    const sections = [...config.matchAll(/^\s*\[remote\s+"([^"]*)"\s*\]/gim)].map((m) => m[1])
    if (sections.includes(name)) return true
    if (lstatSync(join(gitDir, "refs", "remotes", name), { throwIfNoEntry: false })?.isDirectory())
      return true
    const packed = readOrUndefined(join(gitDir, "packed-refs"))
    if (packed === undefined) return undefined
    return packed.includes(` refs/remotes/${name}/`)
  } catch {
    return undefined
  }
}

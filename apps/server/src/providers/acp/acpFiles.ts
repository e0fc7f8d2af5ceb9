// The file system an ACP agent may use through Spindle (`fs/read_text_file`, `fs/write_text_file`):
// its own worktree and nothing else. A path must be absolute and, with every link resolved, inside
// the worktree; a write never follows a link at its last step and never makes folders outside. The
// answers are the protocol's; a refusal says why, so the agent can tell its model.
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  writeFileSync
} from "node:fs"
import { dirname, isAbsolute, relative, resolve, sep } from "node:path"

/** Files an agent reads through Spindle at most (bytes). */
export const MAX_READ = 8 * 1024 * 1024

const inside = (root: string, path: string) => {
  const rel = relative(root, path)
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel))
}

/** The real folder nearest to `path` that exists (its own path when it exists). */
const nearestReal = (path: string): string => {
  let at = path
  for (;;) {
    try {
      return resolve(realpathSync(at), relative(at, path))
    } catch {
      const up = dirname(at)
      if (up === at) return path
      at = up
    }
  }
}

/** Why `path` is not the agent's to touch, or undefined. */
const refusal = (worktree: string, path: string): string | undefined => {
  if (!isAbsolute(path)) return `${path} is not an absolute path`
  const root = realpathSync(worktree)
  if (!inside(root, nearestReal(resolve(path))))
    return `${path} is outside the thread's worktree (${worktree})`
  return undefined
}

export class FileRefused extends Error {}

export const readTextFile = (worktree: string, path: string, line?: number | null, limit?: number | null) => {
  const why = refusal(worktree, path)
  if (why !== undefined) throw new FileRefused(`Spindle refused to read: ${why}.`)
  const info = lstatSync(path)
  if (!info.isFile()) throw new FileRefused(`${path} is not a file.`)
  if (info.size > MAX_READ) throw new FileRefused(`${path} is larger than ${MAX_READ} bytes.`)
  const text = readFileSync(path, "utf8")
  if (line == null && limit == null) return text
  const lines = text.split("\n")
  const from = Math.max(0, (line ?? 1) - 1)
  return lines.slice(from, limit == null ? undefined : from + limit).join("\n")
}

export const writeTextFile = (worktree: string, path: string, content: string) => {
  const why = refusal(worktree, path)
  if (why !== undefined) throw new FileRefused(`Spindle refused to write: ${why}.`)
  try {
    if (lstatSync(path).isSymbolicLink())
      throw new FileRefused(`${path} is a symbolic link: Spindle does not write through it.`)
  } catch (error) {
    if (error instanceof FileRefused) throw error
  }
  mkdirSync(dirname(path), { recursive: true })
  // Checked again now that the folders exist: a link planted meanwhile is refused.
  const again = refusal(worktree, path)
  if (again !== undefined) throw new FileRefused(`Spindle refused to write: ${again}.`)
  // O_NOFOLLOW: a link put at the last step after the check is not written through.
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    0o644
  )
  try {
    writeFileSync(fd, content)
  } finally {
    closeSync(fd)
  }
}

// File-system predicates with no domain knowledge.
import { existsSync, statSync } from "node:fs"
import { dirname, join } from "node:path"

/** True when `path` exists and is a directory (following symlinks); never throws. */
export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * `relative` (a path from the checkout's root, such as `apps/board/src/main.tsx`) found from the
 * folder `from` upwards, so that the sources and a bundle built from them (in a folder further
 * down the same checkout) both find it; undefined when no folder above holds it.
 */
export const findUpwards = (from: string, relative: string): string | undefined => {
  let dir = from
  for (let depth = 0; depth < 8; depth++) {
    const candidate = join(dir, relative)
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}

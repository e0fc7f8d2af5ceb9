// File-system predicates with no domain knowledge.
import { statSync } from "node:fs"

/** True when `path` exists and is a directory (following symlinks); never throws. */
export const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

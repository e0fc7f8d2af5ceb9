// Pure parsers for git's machine-readable output. No I/O: unit-tested on literal strings.

export interface WorktreeEntry {
  readonly path: string
  readonly head: string | null
  /** Short branch name; null on a detached HEAD or a bare entry. */
  readonly branch: string | null
  readonly detached: boolean
  readonly bare: boolean
  readonly locked: boolean
  readonly prunable: boolean
}

/**
 * `git worktree list --porcelain` output. With `-z` every attribute ends in NUL and records
 * end in an extra NUL; without it attributes end in a newline and records in a blank line
 * (paths with a newline cannot be told apart then, which is why `-z` is preferred).
 */
export const parseWorktreeList = (output: string, nulTerminated: boolean): ReadonlyArray<WorktreeEntry> => {
  const separator = nulTerminated ? "\0" : "\n"
  const entries: Array<WorktreeEntry> = []
  let current: { -readonly [K in keyof WorktreeEntry]: WorktreeEntry[K] } | undefined
  const flush = () => {
    if (current !== undefined) entries.push(current)
    current = undefined
  }
  for (const line of output.split(separator)) {
    if (line === "") {
      flush()
      continue
    }
    const space = line.indexOf(" ")
    const key = space === -1 ? line : line.slice(0, space)
    const value = space === -1 ? "" : line.slice(space + 1)
    if (key === "worktree") {
      flush()
      current = {
        path: value,
        head: null,
        branch: null,
        detached: false,
        bare: false,
        locked: false,
        prunable: false
      }
      continue
    }
    if (current === undefined) continue
    switch (key) {
      case "HEAD":
        current.head = value
        break
      case "branch":
        current.branch = value.replace(/^refs\/heads\//, "")
        break
      case "detached":
        current.detached = true
        break
      case "bare":
        current.bare = true
        break
      case "locked":
        current.locked = true
        break
      case "prunable":
        current.prunable = true
        break
    }
  }
  flush()
  return entries
}

export interface StatusSummary {
  /** Short branch name, or null on a detached HEAD. */
  readonly branch: string | null
  /** The commit checked out; null in a repository without commits. */
  readonly head: string | null
  /** Paths with staged, unstaged, untracked or conflicted changes. */
  readonly changedFiles: number
}

/** `git status --porcelain=v2 --branch -z`. */
export const parseStatusV2 = (output: string): StatusSummary => {
  let branch: string | null = null
  let head: string | null = null
  let changedFiles = 0
  const records = output.split("\0")
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    if (record === "") continue
    if (record.startsWith("# branch.oid ")) {
      const oid = record.slice("# branch.oid ".length)
      head = oid === "(initial)" ? null : oid
    } else if (record.startsWith("# branch.head ")) {
      const name = record.slice("# branch.head ".length)
      branch = name === "(detached)" ? null : name
    } else if (record.startsWith("#")) {
    } else {
      changedFiles++
      // A rename or copy record is followed by its original path as a separate record.
      if (record.startsWith("2 ")) i++
    }
  }
  return { branch, head, changedFiles }
}

// What is on disk, read the way a user would check it: git worktrees and spindle/* branches of a
// repository, the folders under <home>/worktrees, the event log's sequences in the SQLite file,
// and a scan of logs, database files and output for token secrets.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"

export interface RegisteredWorktree {
  readonly path: string
  readonly branch: string | null
  readonly prunable: boolean
}

const git = (cwd: string, args: ReadonlyArray<string>) =>
  execFileSync("git", [...args], {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024
  }).toString()

/** `git worktree list --porcelain` of `repo`. */
export const worktreesOf = (repo: string): Array<RegisteredWorktree> => {
  const blocks = git(repo, ["worktree", "list", "--porcelain"]).split("\n\n")
  return blocks
    .map((block) => block.split("\n").filter((l) => l !== ""))
    .filter((lines) => lines.length > 0 && lines[0]!.startsWith("worktree "))
    .map((lines) => ({
      path: lines[0]!.slice("worktree ".length),
      branch: lines.find((l) => l.startsWith("branch "))?.slice("branch refs/heads/".length) ?? null,
      prunable: lines.some((l) => l.startsWith("prunable"))
    }))
}

/** Local branches under `spindle/`. */
export const spindleBranchesOf = (repo: string): Array<string> =>
  git(repo, ["for-each-ref", "--format=%(refname:short)", "refs/heads/spindle/"])
    .split("\n")
    .filter((l) => l !== "")

/** Every branch of `repo`. */
export const branchesOf = (repo: string): Array<string> =>
  git(repo, ["for-each-ref", "--format=%(refname:short)", "refs/heads/"])
    .split("\n")
    .filter((l) => l !== "")

/** Whether the worktree at `path` holds changes (tracked or untracked). */
export const isDirty = (path: string) =>
  existsSync(path) && git(path, ["status", "--porcelain", "--untracked-files=all"]).trim() !== ""

/** The real path of `<home>/worktrees` (which may not exist yet). */
export const worktreesRoot = (home: string) => {
  const root = join(home, "worktrees")
  return existsSync(root) ? realpathSync(root) : root
}

/** The folders two levels under `<home>/worktrees` (`<project>/<branch-slug>`). */
export const worktreeFolders = (home: string): Array<string> => {
  const root = worktreesRoot(home)
  if (!existsSync(root)) return []
  return readdirSync(root).flatMap((project) => {
    const dir = join(root, project)
    return statSync(dir).isDirectory() ? readdirSync(dir).map((name) => join(dir, name)) : [dir]
  })
}

/** The sequences in the event log, read from the SQLite file (the server may be running). */
export const eventSequences = (home: string): Array<number> => {
  const db = new DatabaseSync(join(home, "spindle.db"), { readOnly: true })
  try {
    db.exec("PRAGMA busy_timeout = 5000")
    const rows = db.prepare("SELECT sequence FROM events ORDER BY sequence").all() as Array<{
      sequence: number
    }>
    return rows.map((r) => r.sequence)
  } finally {
    db.close()
  }
}

/** A whole secret as Spindle issues them: `spn_`/`spc_` and 43 base64url characters. */
const SECRET_SHAPE = /\bsp[nc]_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g

const filesUnder = (dir: string): Array<string> => {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : []
  })
}

/**
 * Where a secret appears: every log file under `<home>/logs`, the database files (their raw text,
 * so every table and the WAL), and the given process output. `known` are secrets this run issued;
 * anything else of the same shape counts too. The owner-token file is the one place a token belongs.
 */
export const secretLeaks = (home: string, known: ReadonlyArray<string>, outputs: Record<string, string>) => {
  const sources: Array<[string, string]> = [
    ...filesUnder(join(home, "logs")).map((f): [string, string] => [f, readFileSync(f, "latin1")]),
    ...["spindle.db", "spindle.db-wal", "spindle.db-journal"]
      .map((f) => join(home, f))
      .filter(existsSync)
      .map((f): [string, string] => [f, readFileSync(f, "latin1")]),
    ...Object.entries(outputs)
  ]
  const leaks: Array<string> = []
  for (const [where, text] of sources) {
    const found = new Set<string>(text.match(SECRET_SHAPE) ?? [])
    for (const secret of known) if (secret !== "" && text.includes(secret)) found.add(secret)
    for (const secret of found)
      leaks.push(`${where} holds a token (${secret.slice(0, 4)}…${secret.length} chars)`)
  }
  return leaks
}

/** The event types recorded for one aggregate (a project or a thread id). */
export const eventTypesOf = (home: string, aggregateId: string): Array<string> => {
  const db = new DatabaseSync(join(home, "spindle.db"), { readOnly: true })
  try {
    db.exec("PRAGMA busy_timeout = 5000")
    const rows = db
      .prepare("SELECT type FROM events WHERE aggregate_id = ? ORDER BY sequence")
      .all(aggregateId) as Array<{ type: string }>
    return rows.map((r) => r.type)
  } finally {
    db.close()
  }
}

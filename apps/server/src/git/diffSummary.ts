// What a thread changed against its base, from git: files and lines (committed or not, plus new
// untracked files) against the merge base of HEAD and the base, and the commits HEAD is ahead.
// Reads only.
import { lstat, readFile } from "node:fs/promises"
import { join } from "node:path"
import { type DiffSummary, MAX_OUTPUT_FILES } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitArg, resolveLocal } from "./baseRefs.ts"
import type { GitCli, GitRunOptions } from "./GitCli.ts"

/** `git diff --numstat -z` records: "ins\tdel\tpath\0" (a rename spreads its paths over three fields). */
const parseNumstat = (out: string) => {
  const files: Array<{ path: string; insertions: number | null; deletions: number | null }> = []
  const fields = out.split("\0")
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    if (field === "") continue
    const [ins, del, path] = field.split("\t")
    // A rename: "ins\tdel\t\0old\0new\0"; the new path is the one counted.
    let name = path!
    if (path === "") {
      name = fields[i + 2]!
      i += 2
    }
    files.push({
      path: name,
      insertions: ins === "-" ? null : Number(ins),
      deletions: del === "-" ? null : Number(del)
    })
  }
  return files
}

/**
 * Past this size a new file's lines are not counted (as git leaves a binary file's uncounted):
 * every `thread show` and agent status reads them, so each read stays small.
 */
const MAX_COUNTED_BYTES = 1024 * 1024

/**
 * The lines of a new, untracked file, as `git diff --numstat` would count them once added: null
 * for a binary file (a NUL in its first 8000 bytes), a large one, or one that cannot be read; a
 * symbolic link is one line (its target) and is never followed.
 */
const linesOf = (path: string) =>
  Effect.tryPromise(async () => {
    const info = await lstat(path)
    if (info.isSymbolicLink()) return 1
    if (!info.isFile() || info.size > MAX_COUNTED_BYTES) return null
    const bytes = await readFile(path)
    if (bytes.subarray(0, 8000).includes(0)) return null
    let lines = 0
    for (const byte of bytes) if (byte === 10) lines++
    return bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? lines + 1 : lines
  }).pipe(
    Effect.catch((error) =>
      Effect.as(Effect.logDebug(`Could not count the lines of ${path}: ${error}`), null)
    )
  )

/** The merge base of HEAD and the base, read by the rules a start uses and handed to git as a commit. */
const mergeBaseWith = (git: GitCli["Service"], at: GitRunOptions, base: string) =>
  Effect.gen(function* () {
    // In the repository the worktree links into: its refs are the worktree's, and git runs in the
    // worktree only once GitCli has checked that link.
    const resolved = yield* resolveLocal(git, at.worktreeOf ?? at.cwd, base)
    return (yield* git.runOk(["merge-base", "HEAD", "--end-of-options", commitArg(resolved.sha)], at)).trim()
  })

/** `repo`: the repository the worktree must link into (GitCli refuses it otherwise). */
export const diffSummary = (git: GitCli["Service"], repo: string, worktree: string, base: string) =>
  Effect.gen(function* () {
    const at = { cwd: worktree, worktreeOf: repo }
    const mergeBase = yield* mergeBaseWith(git, at, base)
    const numstat = parseNumstat(
      yield* git.runOk(["diff", "--numstat", "-z", "--end-of-options", mergeBase], at)
    )
    const untracked = (yield* git.runOk(["ls-files", "--others", "--exclude-standard", "-z"], at))
      .split("\0")
      .filter((path) => path !== "")
    const ahead = Number(
      (yield* git.runOk(["rev-list", "--count", "--end-of-options", `${mergeBase}..HEAD`], at)).trim()
    )
    const added = yield* Effect.forEach(
      untracked,
      (path, i) => (i < MAX_OUTPUT_FILES ? linesOf(join(worktree, path)) : Effect.succeed(null)),
      { concurrency: 8 }
    )
    const files = [
      ...numstat.map((f) => ({ ...f, status: "changed" as const })),
      ...untracked.map((path, i) => ({
        path,
        insertions: added[i] ?? null,
        deletions: added[i] === null ? null : 0,
        status: "untracked" as const
      }))
    ]
    return {
      base,
      filesChanged: files.length,
      insertions: files.reduce((n, f) => n + (f.insertions ?? 0), 0),
      deletions: numstat.reduce((n, f) => n + (f.deletions ?? 0), 0),
      files: files.slice(0, MAX_OUTPUT_FILES),
      filesTruncated: files.length > MAX_OUTPUT_FILES,
      commitsAhead: Number.isFinite(ahead) ? ahead : 0
    } satisfies DiffSummary
  })

/** The whole diff is cut past this many bytes (the cut is said at the end). */
export const MAX_DIFF_BYTES = 4 * 1024 * 1024

/**
 * The full patch against the merge base, new untracked files included (as additions), read-only:
 * the index is never touched, so nothing the agent staged or did not stage changes.
 */
export const fullDiff = (git: GitCli["Service"], repo: string, worktree: string, base: string) =>
  Effect.gen(function* () {
    const at = { cwd: worktree, worktreeOf: repo }
    const mergeBase = yield* mergeBaseWith(git, at, base)
    let patch = yield* git.runOk(["diff", "--end-of-options", mergeBase], at)
    const untracked = (yield* git.runOk(["ls-files", "--others", "--exclude-standard", "-z"], at))
      .split("\0")
      .filter((path) => path !== "")
    for (const path of untracked) {
      if (patch.length > MAX_DIFF_BYTES) break
      // --no-index exits 1 when the files differ, which they do.
      patch += (yield* git.run(["diff", "--no-index", "--", "/dev/null", path], at)).stdout
    }
    const truncated = patch.length > MAX_DIFF_BYTES
    return {
      base,
      mergeBase,
      patch: truncated ? patch.slice(0, MAX_DIFF_BYTES) : patch,
      truncated
    }
  })

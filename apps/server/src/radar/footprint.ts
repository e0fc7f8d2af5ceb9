// A live thread's change footprint from git: every file it changed against its fork point (the
// merge base of its HEAD and its base), committed or not, with the ranges of the fork point's
// lines each change replaces, and the lines added and removed; untracked files count as whole new files. One `git diff
// --unified=0` against the fork point (which reads the working tree) and one `ls-files` for the
// untracked files, through GitCli (no configured program runs, the worktree must link into the
// project's repository, refs and commits fully qualified). Reads only: nothing is written, not
// even the index (GitCli runs git with optional locks off).
import { lstatSync, readFileSync, realpathSync } from "node:fs"
import { join, sep } from "node:path"
import { type LineRange, WHOLE_FILE_END } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitArg, resolveLocal } from "../git/baseRefs.ts"
import type { GitCli } from "../git/GitCli.ts"

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+/

const ESCAPES: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 34,
  "\\": 92
}

/** A C-quoted name as git writes one ("a/x\tb"), from its opening quote; answers it and where it ends. */
const unquote = (text: string, from: number): { readonly value: string; readonly end: number } => {
  const bytes: Array<number> = []
  let i = from + 1
  while (i < text.length && text[i] !== '"') {
    const c = text[i] as string
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"))
      i++
      continue
    }
    const next = text[i + 1] ?? ""
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 4), 8))
      i += 4
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0))
      i += 2
    }
  }
  return { value: Buffer.from(bytes).toString("utf8"), end: i + 1 }
}

/**
 * The path of a `diff --git a/P b/P` header (renames are off, so both sides name one path): the
 * first name without its `a/` prefix.
 */
export const headerPath = (header: string): string => {
  const rest = header.slice("diff --git ".length)
  if (rest.startsWith('"')) return unquote(rest, 0).value.slice(2)
  const length = (rest.length - 5) / 2
  return rest.slice(2, 2 + length)
}

/** The ranges of the fork point's lines a hunk header `@@ -a,b +c,d @@` replaces. */
export const hunkRange = (line: string): LineRange | undefined => {
  const match = HUNK.exec(line)
  if (match === null) return undefined
  const start = Number(match[1])
  const count = match[2] === undefined ? 1 : Number(match[2])
  // git writes a pure insertion as "-a,0": it goes after line a.
  return count === 0 ? { start: start + 1, end: start } : { start, end: start + count - 1 }
}

/** `git diff --unified=0` output, per path: the ranges its hunks replace (a binary file: all of it). */
export const parseUnifiedZero = (patch: string): Map<string, Array<LineRange>> => {
  const files = new Map<string, Array<LineRange>>()
  let current: Array<LineRange> | undefined
  let inHeader = false
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) {
      current = []
      files.set(headerPath(line), current)
      inHeader = true
    } else if (current === undefined) {
    } else if (line.startsWith("@@ ")) {
      inHeader = false
      const range = hunkRange(line)
      if (range !== undefined) current.push(range)
    } else if (inHeader && line.startsWith("Binary files ")) {
      current.push({ start: 1, end: WHOLE_FILE_END })
    }
  }
  // A change of mode alone replaces no line: it meets nothing.
  for (const [path, ranges] of files) if (ranges.length === 0) files.delete(path)
  return files
}

const COUNTS = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/

/** Lines added and removed in `git diff --unified=0` output, from its hunk headers. */
export const lineCounts = (patch: string): { added: number; removed: number } => {
  let added = 0
  let removed = 0
  for (const line of patch.split("\n")) {
    const match = COUNTS.exec(line)
    if (match === null) continue
    removed += match[1] === undefined ? 1 : Number(match[1])
    added += match[2] === undefined ? 1 : Number(match[2])
  }
  return { added, removed }
}

/** Untracked files whose lines are counted as added (each up to UNTRACKED_BYTES); past them, files only. */
const UNTRACKED_COUNTED = 200
const UNTRACKED_BYTES = 1024 * 1024

/**
 * The lines of an untracked text file in `root` (0 for a binary, a large or an unreadable one, and
 * for one that is a link or, through a linked folder, outside the worktree).
 */
const untrackedLines = (root: string, path: string): number => {
  try {
    const stat = lstatSync(path)
    if (!stat.isFile() || stat.size > UNTRACKED_BYTES) return 0
    if (!realpathSync(path).startsWith(`${root}${sep}`)) return 0
    const bytes = readFileSync(path)
    if (bytes.includes(0)) return 0
    let lines = 0
    for (const byte of bytes) if (byte === 10) lines++
    return bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? lines + 1 : lines
  } catch {
    return 0
  }
}

export interface FootprintFiles {
  /** The fork point the ranges are lines of. */
  readonly forkPoint: string
  readonly files: Map<string, Array<LineRange>>
  /** Lines added and removed against the fork point, untracked files' lines counted as added. */
  readonly added: number
  readonly removed: number
}

/** A new file, whatever its length: an insertion before line 1. */
const NEW_FILE: ReadonlyArray<LineRange> = [{ start: 1, end: 0 }]

/**
 * The footprint of the worktree at `worktree` (a worktree of `repo`) against its fork point with
 * `base`. `baseRef` caches what each base name resolves to (a fully qualified ref or commit id),
 * so a recompute asks git for the fork point in one call.
 */
export const footprintOf = (
  git: GitCli["Service"],
  repo: string,
  worktree: string,
  base: string,
  baseRef: Map<string, string>
) =>
  Effect.gen(function* () {
    const at = { cwd: worktree, worktreeOf: repo }
    const key = `${repo}\0${base}`
    let ref = baseRef.get(key)
    if (ref === undefined) {
      ref = (yield* resolveLocal(git, repo, base)).ref
      if (baseRef.size > 1_000) baseRef.clear()
      baseRef.set(key, ref)
    }
    const forkPoint = yield* git
      .runOk(["merge-base", "HEAD", "--end-of-options", commitArg(ref)], at)
      .pipe(Effect.tapError(() => Effect.sync(() => baseRef.delete(key))))
    const [patch, untracked] = yield* Effect.all(
      [
        git.runOk(
          [
            "diff",
            "--unified=0",
            "--no-renames",
            "--no-color",
            "--ignore-submodules=none",
            "--end-of-options",
            forkPoint.trim()
          ],
          at
        ),
        git.runOk(["ls-files", "--others", "--exclude-standard", "-z"], at)
      ],
      { concurrency: 2 }
    )
    const files = parseUnifiedZero(patch)
    let { added, removed } = lineCounts(patch)
    let counted = 0
    const root = yield* Effect.try(() => realpathSync(worktree)).pipe(Effect.orElseSucceed(() => worktree))
    for (const path of untracked.split("\0")) {
      if (path === "") continue
      files.set(path, [...NEW_FILE])
      if (counted++ < UNTRACKED_COUNTED) added += untrackedLines(root, join(root, path))
    }
    return { forkPoint: forkPoint.trim(), files, added, removed } satisfies FootprintFiles
  })

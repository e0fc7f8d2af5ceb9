// Copies the ignored files a repository lists in `.worktreeinclude` (gitignore syntax, e.g.
// `.env`) into a new worktree. Best effort: every problem is a warning, never a failure, and
// nothing that resolves outside the repository is ever read.
import { existsSync } from "node:fs"
import { copyFile, lstat, mkdir, realpath } from "node:fs/promises"
import { dirname, join, sep } from "node:path"
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"

export const INCLUDE_FILE = ".worktreeinclude"

const MAX_FILES = 1_000

export interface IncludeResult {
  readonly copied: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
}

const inside = (root: string, path: string) => path === root || path.startsWith(root + sep)

export const copyIncludedFiles = (git: GitCli["Service"], repo: string, worktree: string) =>
  Effect.gen(function* () {
    const copied: Array<string> = []
    const warnings: Array<string> = []
    if (!existsSync(join(repo, INCLUDE_FILE))) return { copied, warnings } satisfies IncludeResult
    // Untracked files matching the include patterns, then keep only those the repository ignores.
    const listed = yield* git.runOk(
      ["ls-files", "--others", "--ignored", "-z", `--exclude-from=${INCLUDE_FILE}`],
      {
        cwd: repo
      }
    )
    const candidates = listed.split("\0").filter((path) => path !== "")
    if (candidates.length === 0) return { copied, warnings } satisfies IncludeResult
    const checked = yield* git.runOk(
      [
        "--literal-pathspecs",
        "ls-files",
        "--others",
        "--ignored",
        "--exclude-standard",
        "-z",
        "--",
        ...candidates.slice(0, MAX_FILES)
      ],
      { cwd: repo }
    )
    const ignored = checked.split("\0").filter((path) => path !== "")
    if (candidates.length > MAX_FILES) {
      warnings.push(
        `${INCLUDE_FILE} matches ${candidates.length} files; only the first ${MAX_FILES} were considered.`
      )
    }
    const realRepo = yield* Effect.promise(() => realpath(repo))
    for (const relative of ignored) {
      const source = join(repo, relative)
      const target = join(worktree, relative)
      const outcome = yield* Effect.promise(async () => {
        const resolved = await realpath(source).catch(() => undefined)
        if (resolved === undefined || !inside(realRepo, resolved)) {
          return `Skipped ${relative} from ${INCLUDE_FILE}: it resolves outside the repository.`
        }
        const stat = await lstat(resolved)
        if (!stat.isFile()) return `Skipped ${relative} from ${INCLUDE_FILE}: not a regular file.`
        if (existsSync(target))
          return `Skipped ${relative} from ${INCLUDE_FILE}: the worktree already has it.`
        await mkdir(dirname(target), { recursive: true })
        await copyFile(resolved, target)
        return undefined
      }).pipe(
        Effect.catchDefect((error) =>
          Effect.succeed(
            `Could not copy ${relative} from ${INCLUDE_FILE}: ${(error as Error).message ?? String(error)}`
          )
        )
      )
      if (outcome === undefined) copied.push(relative)
      else warnings.push(outcome)
    }
    return { copied, warnings } satisfies IncludeResult
  }).pipe(
    Effect.catchTag("GitError", (error) =>
      Effect.succeed({
        copied: [],
        warnings: [`Could not read ${INCLUDE_FILE}: ${error.message}`]
      } satisfies IncludeResult)
    )
  )

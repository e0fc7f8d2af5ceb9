// Whether a thread's recorded worktree is really there, asked of git rather than taken from the
// thread: a linked worktree of the project's repository at that path, its folder present and its
// `.git` linking back (or, for current_checkout, the repository's own checkout). It judges; what to
// do about a missing worktree (re-create it, record it gone) is the caller's.
import { existsSync } from "node:fs"
import { realpath } from "node:fs/promises"
import type { WorkspaceMode } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { Repositories } from "../git/Repositories.ts"
import { foreignGitDir } from "../git/worktreeLink.ts"

/**
 * present: git lists it there and its folder links back; foreign: it is there but its `.git` leads
 * elsewhere (left to the cleanup, which never looks inside); missing: anything else.
 */
export type WorktreePresence = "present" | "foreign" | "missing"

const realPath = (path: string) => Effect.promise(() => realpath(path).catch(() => path))

export const worktreePresence = (
  repositories: Repositories["Service"],
  repo: string,
  path: string,
  mode: WorkspaceMode
) =>
  Effect.gen(function* () {
    if (!existsSync(path)) return "missing" as WorktreePresence
    const real = yield* realPath(path)
    if (mode === "current_checkout") return real === (yield* realPath(repo)) ? "present" : "missing"
    const listed = yield* repositories.listWorktrees(repo).pipe(Effect.orElseSucceed(() => []))
    // The first entry is the repository's own checkout, never a thread's linked worktree.
    const linked = yield* Effect.forEach(listed.slice(1), (entry) =>
      Effect.map(realPath(entry.path), (at) => ({ ...entry, at }))
    )
    if (!linked.some((entry) => entry.at === real && !entry.bare && !entry.prunable)) return "missing"
    return foreignGitDir(real, repo) === undefined ? "present" : "foreign"
  })

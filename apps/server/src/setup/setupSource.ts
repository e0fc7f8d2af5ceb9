// Which setup script a project runs. The rule: the project's `setupScript` setting, else
// `.spindle/setup.sh` as committed on the project's default branch, read from git's objects.
// Never a file in a worktree or a checkout, and never a ref a thread or an agent chose, since
// both are things an agent can write; the script runs on the host, outside any sandbox.
import type { Project } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { GitError } from "../git/GitError.ts"
import type { Repositories } from "../git/Repositories.ts"

export const SETUP_FILE = ".spindle/setup.sh"

/** Bigger committed setup files are refused rather than run. */
export const MAX_COMMITTED_SETUP_BYTES = 256 * 1024

export type SetupSource =
  | { readonly _tag: "setting"; readonly script: string }
  /** The blob's text; its executable bit does not matter, /bin/sh runs it either way. */
  | { readonly _tag: "committed"; readonly script: string; readonly ref: string }
  | { readonly _tag: "none" }
  /** There is an entry, but it is not run (a symlink, a folder, too big): the run fails with this. */
  | { readonly _tag: "refused"; readonly message: string }

export const resolveSetupScript = (
  repositories: Repositories["Service"],
  project: Project
): Effect.Effect<SetupSource, GitError> =>
  Effect.gen(function* () {
    if (project.setupScript?.trim()) return { _tag: "setting", script: project.setupScript } as const
    const repo = project.workspaceRoot
    // Only the branch the user's project names, as a local branch by its full name: never detected
    // again at run time (origin/HEAD and the checkout's HEAD are refs an agent can move) and never
    // a remote-tracking ref (an agent can create the local one it would stand in for).
    const branch = project.defaultBranch
    if (branch === null) return { _tag: "none" } as const
    const ref = `refs/heads/${branch}`
    const file = yield* repositories.readCommittedFile(repo, ref, SETUP_FILE, MAX_COMMITTED_SETUP_BYTES)
    if (file === undefined) return { _tag: "none" } as const
    if (file._tag === "refused")
      return {
        _tag: "refused",
        message: `Setup not run: ${file.message} Commit a regular file there, or set the project's setupScript.`
      } as const
    return { _tag: "committed", script: file.content, ref } as const
  }).pipe(Effect.withSpan("resolveSetupScript"))

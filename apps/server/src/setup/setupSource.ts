// Which setup script a project runs. The rule: the project's `setupScript` setting, else
// `.spindle/setup.sh` as committed on the project's default branch, read from git's objects, and
// only when its blob is the one the user approved. Never a file in a worktree or a checkout, and
// never a ref a thread or an agent chose, since both are things an agent can write; and since an
// agent can move the default branch itself from its worktree (the .git is shared), the branch
// alone does not vouch for the script: the approved blob does. The script runs on the host.
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
  /** A regular file, but not the blob the user approved: not run, and the message says how to approve. */
  | { readonly _tag: "unapproved"; readonly message: string; readonly oid: string }

/** The command that approves a project's committed setup script as its default branch holds it now. */
export const approveSetupCommand = (projectId: string) =>
  `spindle project update ${projectId} --approve-setup`

const short = (oid: string) => oid.slice(0, 12)

const unapprovedMessage = (project: Project, ref: string, oid: string) => {
  const approval = project.setupApproval
  const why =
    approval === null
      ? `project ${project.id} has no approved setup script yet (it was registered before Spindle pinned them)`
      : approval.setupBlob === null
        ? `project ${project.id} had no committed setup script when it was last approved`
        : `the approved one is blob ${short(approval.setupBlob)}`
  return `Setup not run: ${SETUP_FILE} on ${ref} is blob ${short(oid)}, and ${why}. An agent can commit to the default branch from its worktree, so a changed script runs only once you approve it: review it ('git show ${ref}:${SETUP_FILE}'), then run '${approveSetupCommand(project.id)}' (and 'spindle setup rerun <thread>' for this thread).`
}

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
    // The blob just read is the one compared and the one run: a branch moved meanwhile changes neither.
    if (project.setupApproval?.setupBlob !== file.oid)
      return {
        _tag: "unapproved",
        message: unapprovedMessage(project, ref, file.oid),
        oid: file.oid
      } as const
    return { _tag: "committed", script: file.content, ref } as const
  }).pipe(Effect.withSpan("resolveSetupScript"))

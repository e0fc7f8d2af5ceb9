// Part of step 1 for a new worktree that starts from a thread's present (`workspace.fromThread`):
// which thread that may be (of the same project, active, with a worktree that is still a folder;
// an agent only its own), then its HEAD and, when asked, the commit of its uncommitted changes
// (Repositories.snapshotWorktree: objects only, the thread's files and index untouched), and the
// line the child's first prompt starts with. The branch itself is made in step 3, like any other.
import { lstatSync } from "node:fs"
import { MAX_PROMPT_LENGTH, type Project, SpindleError, type Thread, type ThreadId } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { toSpindleError } from "../git/GitError.ts"
import type { Repositories, ResolvedBase } from "../git/Repositories.ts"
import type { BootstrapParent } from "./bootstrapPlan.ts"

const FIELD = "bootstrap.workspace.fromThread"
const UNCOMMITTED_FIELD = "bootstrap.workspace.includeUncommitted"

export interface FromThreadRequest {
  readonly fromThread: ThreadId
  readonly includeUncommitted: boolean
}

/** A checked thread to start from: where its worktree is. */
export interface FromThreadSource {
  readonly thread: Thread
  readonly worktreePath: string
  readonly includeUncommitted: boolean
}

const short = (sha: string) => sha.slice(0, 12)

/** The one line the first prompt starts with: what the new thread starts from. */
export const startLine = (
  from: ThreadId,
  snapshot: { readonly head: string; readonly commit: string; readonly uncommitted: boolean },
  includeUncommitted: boolean
) =>
  snapshot.uncommitted
    ? `You start from thread ${from}'s HEAD ${short(snapshot.head)} plus its uncommitted changes (commit ${short(snapshot.commit)}).`
    : includeUncommitted
      ? `You start from thread ${from}'s HEAD ${short(snapshot.head)}; it had no uncommitted changes.`
      : `You start from thread ${from}'s HEAD ${short(snapshot.head)}, without its uncommitted changes.`

/** The first prompt as the agent gets it: the start line, a blank line, then the prompt. */
export const withStartLine = (line: string, prompt: string) => `${line}\n\n${prompt}`

const fail = (fields: ConstructorParameters<typeof SpindleError>[0]) => Effect.fail(new SpindleError(fields))

/**
 * Checks the thread to start from, reading nothing but the model and the folder's kind: nothing
 * is written, so a refusal here changes nothing.
 */
export const checkFromThread = (
  model: ReadModel,
  project: Project,
  request: FromThreadRequest,
  parent: BootstrapParent | undefined,
  prompt: string
): Effect.Effect<FromThreadSource, SpindleError> =>
  Effect.gen(function* () {
    const id = request.fromThread
    if (parent !== undefined && parent.threadId !== id) {
      return yield* fail({
        reason: "forbidden",
        field: FIELD,
        threadId: id,
        message: `An agent's thread starts a child only from its own present (thread ${parent.threadId}), not from thread ${id}. Use baseBranchSource 'parent' without naming a thread.`
      })
    }
    const thread = Option.getOrUndefined(HashMap.get(model.threads, id))
    if (thread === undefined || thread.deletedAt !== null) {
      return yield* fail({
        reason: "not-found",
        field: FIELD,
        threadId: id,
        message: `Thread ${id} does not exist. Name a thread of project ${project.id} ('spindle thread list --project ${project.id}').`
      })
    }
    if (thread.projectId !== project.id) {
      return yield* fail({
        reason: "validation",
        field: FIELD,
        threadId: id,
        message: `Thread ${id} belongs to project ${thread.projectId}, not ${project.id}: a thread starts only from a thread of its own project. Start it in project ${thread.projectId}, or name a thread of ${project.id}.`
      })
    }
    if (thread.status !== "active") {
      return yield* fail({
        reason: "conflict",
        field: FIELD,
        threadId: id,
        message: `Thread ${id} is archived, so it has no present to start from. Unarchive it first ('spindle thread unarchive ${id}'), or start from its branch${thread.workspace.branch === null ? "" : ` (${thread.workspace.branch})`} as the base.`
      })
    }
    const path = thread.workspace.worktreePath
    if (path === null) {
      return yield* fail({
        reason: "validation",
        field: FIELD,
        threadId: id,
        message: `Thread ${id} has no worktree (its bootstrap is ${thread.bootstrap.status}), so there is nothing to start from. Wait until its workspace is ready, or start from a branch instead.`
      })
    }
    // Recorded as a folder; a symlink put in its place could lead git into another checkout.
    const isFolder = (() => {
      try {
        return lstatSync(path).isDirectory()
      } catch {
        return false
      }
    })()
    if (!isFolder) {
      return yield* fail({
        reason: "conflict",
        field: FIELD,
        threadId: id,
        path,
        message: `Thread ${id}'s worktree ${path} is missing or no longer a folder, so there is nothing to start from. Check it with 'spindle worktrees', or start from a branch instead.`
      })
    }
    // The line goes before the prompt; the two together must still be a prompt.
    const longest = startLine(id, { head: "0".repeat(64), commit: "0".repeat(64), uncommitted: true }, true)
    const room = MAX_PROMPT_LENGTH - longest.length - 2
    if (prompt.length > room) {
      return yield* fail({
        reason: "validation",
        field: "prompt",
        message: `The prompt is ${prompt.length} characters; starting from thread ${id} puts one line before it, which leaves room for ${room}. Shorten it by ${prompt.length - room}.`
      })
    }
    return { thread, worktreePath: path, includeUncommitted: request.includeUncommitted }
  })

/**
 * The base the new branch starts at (the thread's HEAD, or the commit of its uncommitted changes
 * on top) and the first prompt's line saying so. Writes objects only.
 */
export const snapshotBase = (
  repositories: Repositories["Service"],
  project: Project,
  source: FromThreadSource,
  childThreadId: ThreadId
): Effect.Effect<{ readonly base: ResolvedBase; readonly line: string }, SpindleError> =>
  repositories
    .snapshotWorktree({
      repo: project.workspaceRoot,
      worktree: source.worktreePath,
      includeUncommitted: source.includeUncommitted,
      message: `Uncommitted changes of thread ${source.thread.id}\n\nTaken by Spindle for thread ${childThreadId}, which starts from them; thread ${source.thread.id}'s own files and index were left as they were.\n`
    })
    .pipe(
      Effect.map((snapshot) => ({
        // Named by its commit id: the thread's diff and merges read exactly this commit again.
        base: { ref: snapshot.commit, name: snapshot.commit, sha: snapshot.commit, warnings: [] },
        line: startLine(source.thread.id, snapshot, source.includeUncommitted)
      })),
      Effect.mapError((error) =>
        toSpindleError(error, error.reason === "too-large" ? UNCOMMITTED_FIELD : FIELD)
      )
    )

// Merging a thread's branch back: into its parent's branch, else the branch it was started from,
// or the one named. Everything is checked before anything is written, each refusal saying what to
// do: a thread with no branch, a running turn, uncommitted changes in its worktree, a target that
// is a remote-tracking branch or the thread's own, a conflict (with the files and their hunks).
// The merge itself is git/branchMerge.ts, under the repository's lock: in the checkout where the
// target is checked out, or without any checkout.
import {
  type MergeStrategy,
  SpindleError,
  type Thread,
  type ThreadMergeRequest,
  type ThreadMergeResult
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { mergeIntoTarget, previewMerge } from "../git/branchMerge.ts"
import { GitCli } from "../git/GitCli.ts"
import { type GitError, toSpindleError } from "../git/GitError.ts"
import { RepoLocks } from "../git/RepoLocks.ts"
import { Repositories } from "../git/Repositories.ts"

const refused = (thread: Thread, reason: "validation" | "conflict", message: string, field?: string) =>
  new SpindleError({ reason, threadId: thread.id, message, ...(field === undefined ? {} : { field }) })

const conflictText = (conflicts: ThreadMergeResult["conflicts"]) =>
  conflicts
    .map(
      (file) =>
        `${file.path} (lines ${file.hunks.map((h) => `${h.startLine}-${h.endLine}`).join(", ") || "?"})`
    )
    .join("; ")

export class ThreadMerge extends Context.Service<
  ThreadMerge,
  {
    /** Merges (or, with `dryRun`, previews merging) a thread's branch; see the file's comment. */
    readonly merge: (request: ThreadMergeRequest) => Effect.Effect<ThreadMergeResult, SpindleError>
  }
>()("spindle/children/ThreadMerge") {
  static readonly layer = Layer.effect(
    ThreadMerge,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const repositories = yield* Repositories
      const locks = yield* RepoLocks

      /** The branch to merge into, as the request names it or the thread's family says. */
      const targetOf = (thread: Thread, into: string | undefined) =>
        Effect.gen(function* () {
          if (into !== undefined) return into
          if (thread.parentThreadId !== null) {
            const parent = yield* engine.getThread(thread.parentThreadId)
            if (parent?.workspace.branch != null) return parent.workspace.branch
          }
          if (thread.workspace.baseBranch !== null) return thread.workspace.baseBranch
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} has no parent branch or base branch to merge into: name one with --into <branch>.`,
            "into"
          )
        })

      const merge = Effect.fn("ThreadMerge.merge")(function* (request: ThreadMergeRequest) {
        const thread = yield* engine.getThread(request.threadId)
        if (thread === undefined) return yield* threadNotFound(request.threadId)
        const project = yield* engine.getProject(thread.projectId)
        const branch = thread.workspace.branch
        const worktree = thread.workspace.worktreePath
        if (project === undefined || branch === null) {
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} has no branch of its own to merge (it works on a detached or shared checkout).`
          )
        }
        const repo = project.workspaceRoot
        const target = yield* targetOf(thread, request.into)
        if (target === branch) {
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} works on ${target}: it cannot be merged into itself. Name another branch with --into.`,
            "into"
          )
        }
        // A descendant's branch holds this thread's work and more: merging into it runs backwards.
        const model = yield* engine.readModel
        const isDescendant = (other: Thread): boolean => {
          let parentId = other.parentThreadId
          for (let depth = 0; parentId !== null && depth < 64; depth++) {
            if (parentId === thread.id) return true
            parentId = HashMap.get(model.threads, parentId).pipe(
              Option.match({ onNone: () => null, onSome: (t) => t.parentThreadId })
            )
          }
          return false
        }
        const descendant = [...HashMap.values(model.threads)].find(
          (other) =>
            other.workspace.branch === target && other.projectId === thread.projectId && isDescendant(other)
        )
        if (descendant !== undefined) {
          return yield* refused(
            thread,
            "validation",
            `${target} is the branch of thread ${descendant.id}, which ${thread.id} started: merge ${descendant.id} into ${thread.id} instead.`,
            "into"
          )
        }
        const gitFailed = (error: GitError) => toSpindleError(error, "into")
        if ((yield* repositories.branchCommit(repo, target).pipe(Effect.mapError(gitFailed))) === undefined) {
          const remote =
            (yield* git
              .run(["rev-parse", "--verify", "--quiet", `refs/remotes/${target}`], {
                cwd: repo
              })
              .pipe(Effect.mapError(gitFailed))).exitCode === 0
          return yield* refused(
            thread,
            "validation",
            remote
              ? `${target} is a remote-tracking branch: merge into a local branch (create one with 'git branch <name> ${target}') and name it with --into.`
              : `There is no branch ${target} in ${repo}. Name an existing local branch with --into.`,
            "into"
          )
        }
        if (thread.latestTurn?.status === "running") {
          return yield* refused(
            thread,
            "conflict",
            `Thread ${thread.id}'s turn is running: wait for it to end (spindle thread wait ${thread.id}) or stop it (spindle thread stop ${thread.id}), then merge.`
          )
        }
        if (worktree !== null) {
          const status = yield* repositories
            .status(worktree, undefined, repo)
            .pipe(Effect.mapError(gitFailed))
          if (status.changedFiles > 0) {
            return yield* refused(
              thread,
              "conflict",
              `Thread ${thread.id}'s worktree has ${status.changedFiles} uncommitted change(s): commit them, or run 'spindle thread send ${thread.id}' asking the agent to commit, then merge.`
            )
          }
        }
        return yield* locks.withLock(
          repo,
          Effect.gen(function* () {
            const preview = yield* previewMerge(git, repo, `refs/heads/${target}`, `refs/heads/${branch}`)
            const strategy: MergeStrategy = request.strategy ?? (preview.fastForward ? "ff-only" : "merge")
            const result = {
              threadId: thread.id,
              strategy,
              target,
              source: branch,
              upToDate: preview.upToDate,
              before: preview.targetOid,
              files: preview.files,
              conflicts: preview.conflicts
            }
            if (request.dryRun === true) return { ...result, dryRun: true, commit: null }
            if (preview.upToDate) return { ...result, dryRun: false, commit: null }
            if (preview.conflicts.length > 0) {
              return yield* refused(
                thread,
                "conflict",
                `${branch} does not merge cleanly into ${target}; nothing was changed. Conflicts: ${conflictText(preview.conflicts)}. Ask the agent to merge ${target} into its branch and resolve them, then merge again.`
              )
            }
            if (strategy === "ff-only" && !preview.fastForward) {
              return yield* refused(
                thread,
                "conflict",
                `${target} moved since ${branch} forked from it, so it cannot fast-forward; use --strategy merge or squash.`,
                "strategy"
              )
            }
            const message = `${strategy === "squash" ? "Squash" : "Merge"} thread ${thread.id} (${thread.title}) into ${target}`
            const commit = yield* mergeIntoTarget(git, repo, preview, strategy, message)
            return { ...result, dryRun: false, commit }
          }).pipe(Effect.mapError((error) => (error instanceof SpindleError ? error : gitFailed(error))))
        )
      })

      return { merge }
    })
  )
}

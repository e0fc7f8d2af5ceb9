// Archive, unarchive and delete: the thread's state through the engine, then its worktree. An
// archived thread's agent is stopped, its tokens revoked and its ports released (by the reactors
// that follow thread.archived); the worktree and branch Spindle created are removed only when
// nothing would be lost, or with force, after naming what is lost. Worktrees Spindle did not
// create are never removed. One thread at a time: archive, unarchive, delete and the cleanups of
// the retention policy and `spindle worktrees --apply` take the same per-thread lock.
import { existsSync } from "node:fs"
import {
  type Actor,
  type ArchiveResult,
  type CommandId,
  type ProjectId,
  type ProjectRemoveResult,
  SpindleError,
  type Thread,
  type ThreadId,
  type WorktreeCleanup
} from "@spindle/contracts"
import { makeKeyedLock } from "@spindle/shared/keyedLock"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { stepCommandId } from "../bootstrap/bootstrapSteps.ts"
import { CrashPoints } from "../bootstrap/CrashPoints.ts"
import { Engine } from "../engine/Engine.ts"
import { commitArg } from "../git/baseRefs.ts"
import { GitCli } from "../git/GitCli.ts"
import { toSpindleError } from "../git/GitError.ts"
import { RepoLocks } from "../git/RepoLocks.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { WorktreeRemovals } from "../persistence/WorktreeRemovals.ts"
import { ThreadPorts } from "../ports/ThreadPorts.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import { makeWorktreeCleanup, requireThread } from "./worktreeCleanup.ts"
import { worktreePresence } from "./worktreePresence.ts"

/** How long an archive waits for a bootstrap in progress (its setup cancelled) to settle. */
const BOOTSTRAP_SETTLE_MS = 60_000

export class ThreadLifecycle extends Context.Service<
  ThreadLifecycle,
  {
    readonly archive: (
      request: { readonly commandId: CommandId; readonly threadId: ThreadId; readonly force?: boolean },
      actor: Actor
    ) => Effect.Effect<ArchiveResult, SpindleError>
    readonly unarchive: (
      request: { readonly commandId: CommandId; readonly threadId: ThreadId },
      actor: Actor
    ) => Effect.Effect<ArchiveResult, SpindleError>
    readonly delete: (
      request: { readonly commandId: CommandId; readonly threadId: ThreadId; readonly force?: boolean },
      actor: Actor
    ) => Effect.Effect<ArchiveResult, SpindleError>
    /**
     * Looks again at an archived thread's kept worktree and removes it if nothing would be lost
     * now (the retention policy, `spindle worktrees --apply`). Undefined when there was nothing to do.
     */
    readonly cleanUp: (
      threadId: ThreadId,
      commandId: CommandId,
      actor: Actor
    ) => Effect.Effect<WorktreeCleanup | undefined, SpindleError>
    readonly removeProject: (
      request: {
        readonly commandId: CommandId
        readonly projectId: ProjectId
        readonly archiveThreads?: boolean
      },
      actor: Actor
    ) => Effect.Effect<ProjectRemoveResult, SpindleError>
  }
>()("spindle/lifecycle/ThreadLifecycle") {
  static readonly layer = Layer.effect(
    ThreadLifecycle,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const worktrees = yield* Worktrees
      const repoLocks = yield* RepoLocks
      const watch = yield* ThreadWatch
      const ports = yield* ThreadPorts
      const setupScripts = yield* SetupScripts
      const locked = makeKeyedLock<ThreadId>()
      const _now = Effect.map(DateTime.now, DateTime.formatIso)

      const getThread = (threadId: ThreadId) => requireThread(engine, threadId)
      const removals = yield* WorktreeRemovals
      const repositories = yield* Repositories
      const crash = yield* CrashPoints
      const cleanWorktree = makeWorktreeCleanup({ engine, git, worktrees, watch, removals })

      const result = (threadId: ThreadId) =>
        Effect.gen(function* () {
          const model = yield* engine.readModel
          const thread = yield* getThread(threadId)
          return {
            sequence: model.sequence,
            threadId,
            status: thread.status,
            deleted: thread.deletedAt !== null,
            worktreePath: thread.workspace.worktreePath,
            worktree: thread.cleanup
          } satisfies ArchiveResult
        })

      /** Archives the thread (if it is not yet), then decides about its worktree. */
      const archiveUnlocked = (threadId: ThreadId, force: boolean, commandId: CommandId, actor: Actor) =>
        Effect.gen(function* () {
          let thread = yield* getThread(threadId)
          if (thread.deletedAt !== null) {
            return yield* new SpindleError({
              reason: "conflict",
              threadId,
              message: `Thread ${threadId} was deleted; there is nothing left to archive.`
            })
          }
          if (thread.status === "queued") {
            // Out of the queue: it never started, so it has no session, setup or worktree.
            yield* engine.dispatch({ type: "thread.archive", commandId, threadId }, actor)
          } else if (thread.status === "active") {
            // A bootstrap in progress settles first; its setup is cancelled so that is quick.
            const deadline = (yield* Clock.currentTimeMillis) + BOOTSTRAP_SETTLE_MS
            while (thread.bootstrap.status === "running" && (yield* Clock.currentTimeMillis) < deadline) {
              yield* setupScripts.cancel(threadId)
              thread =
                (yield* watch.until(threadId, (t) => t.bootstrap.status !== "running", 1_000)) ?? thread
            }
            yield* engine.dispatch({ type: "thread.archive", commandId, threadId }, actor)
            yield* crash.reach("thread-archived")
            // A setup rerun in progress has no one left to report to.
            yield* setupScripts.cancel(threadId)
          }
          yield* cleanWorktree(threadId, force, commandId, actor)
          return yield* result(threadId)
        })

      const archive = Effect.fn("ThreadLifecycle.archive")(function* (
        request: { readonly commandId: CommandId; readonly threadId: ThreadId; readonly force?: boolean },
        actor: Actor
      ) {
        return yield* locked(
          request.threadId,
          archiveUnlocked(request.threadId, request.force === true, request.commandId, actor)
        )
      })

      const remove = Effect.fn("ThreadLifecycle.delete")(function* (
        request: { readonly commandId: CommandId; readonly threadId: ThreadId; readonly force?: boolean },
        actor: Actor
      ) {
        return yield* locked(
          request.threadId,
          Effect.gen(function* () {
            const thread = yield* getThread(request.threadId)
            if (thread.deletedAt === null) {
              yield* archiveUnlocked(
                request.threadId,
                request.force === true,
                stepCommandId(request.commandId, "archive"),
                actor
              )
              yield* engine.dispatch(
                { type: "thread.delete", commandId: request.commandId, threadId: request.threadId },
                actor
              )
            }
            return yield* result(request.threadId)
          })
        )
      })

      /** Checks the removed worktree out again where it was (or beside it), from its branch. */
      const restore = Effect.fn("ThreadLifecycle.restore")(function* (
        thread: Thread,
        cleanup: WorktreeCleanup
      ) {
        const project = yield* engine.getProject(thread.projectId)
        const branch = cleanup.branch
        if (project === undefined || branch === null || cleanup.worktreePath === null) {
          return yield* new SpindleError({
            reason: "conflict",
            threadId: thread.id,
            message: `Thread ${thread.id}'s worktree was removed and it had no branch to check out again. Start a new thread instead.`
          })
        }
        const repo = project.workspaceRoot
        const branchExists =
          (yield* git.run(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repo }))
            .exitCode === 0
        if (!branchExists && cleanup.head === null) {
          return yield* new SpindleError({
            reason: "conflict",
            threadId: thread.id,
            message: `Branch ${branch} is gone and its commit was not recorded, so the worktree cannot be checked out again. Start a new thread instead.`
          })
        }
        let path = cleanup.worktreePath
        for (let n = 2; existsSync(path) && n < 100; n++) path = `${cleanup.worktreePath}-${n}`
        // With two arguments, git checks out exactly refs/heads/<branch> when it exists (checked
        // above); a recorded head is handed over as a commit, never as a name a ref could share.
        const args = branchExists
          ? ["worktree", "add", "--", path, branch]
          : ["worktree", "add", "--no-track", "-b", branch, "--", path, commitArg(cleanup.head as string)]
        yield* repoLocks.withLock(repo, git.runOk(args, { cwd: repo, hooks: project.gitHooks }))
        return { path, branch, repo }
      })

      /**
       * The worktree the thread says it has, when git no longer has it there (removed behind the
       * thread's back, or by a removal a crash cut short): what to re-create it from. Undefined
       * when it is there; a conflict when it is gone and Spindle did not create it.
       */
      const missingWorktree = (thread: Thread) =>
        Effect.gen(function* () {
          const path = thread.workspace.worktreePath
          const project = yield* engine.getProject(thread.projectId)
          if (path === null || project === undefined) return null
          const repo = project.workspaceRoot
          if ((yield* worktreePresence(repositories, repo, path, thread.workspace.mode)) !== "missing")
            return null
          if (!thread.workspace.createdByUs) {
            return yield* new SpindleError({
              reason: "conflict",
              threadId: thread.id,
              path,
              message: `Thread ${thread.id}'s worktree ${path} is no longer a worktree of ${repo}, and Spindle did not create it, so it does not re-create it. Create it again (git -C ${repo} worktree add ${path}${thread.workspace.branch === null ? "" : ` ${thread.workspace.branch}`}) and unarchive again, or start a new thread.`
            })
          }
          // git forgets a registration whose folder is gone, so the branch can be checked out again.
          yield* worktrees
            .pruneMissing(repo)
            .pipe(Effect.ignore({ log: "Debug", message: "git worktree prune failed" }))
          return {
            outcome: "removed",
            reasons: [],
            worktreePath: path,
            branch: thread.workspace.branch,
            head: thread.cleanup?.head ?? null,
            branchDeleted: false,
            lost: null,
            at: yield* _now
          } satisfies WorktreeCleanup
        })

      const unarchive = Effect.fn("ThreadLifecycle.unarchive")(function* (
        request: { readonly commandId: CommandId; readonly threadId: ThreadId },
        actor: Actor
      ) {
        return yield* locked(
          request.threadId,
          Effect.gen(function* () {
            const thread = yield* getThread(request.threadId)
            if (thread.status !== "archived" || thread.deletedAt !== null) {
              // The decider names the conflict.
              yield* engine.dispatch(
                { type: "thread.unarchive", commandId: request.commandId, threadId: thread.id },
                actor
              )
              return yield* result(thread.id)
            }
            const removed =
              thread.cleanup?.outcome === "removed" && thread.workspace.createdByUs
                ? thread.cleanup
                : yield* missingWorktree(thread)
            const restored =
              removed === null
                ? undefined
                : yield* restore(thread, removed).pipe(
                    Effect.catchTag("GitError", (error) => Effect.fail(toSpindleError(error, "threadId")))
                  )
            yield* engine
              .dispatch(
                { type: "thread.unarchive", commandId: request.commandId, threadId: thread.id },
                actor
              )
              .pipe(
                Effect.tapError(() =>
                  restored === undefined
                    ? Effect.void
                    : worktrees
                        .remove({
                          repo: restored.repo,
                          worktreePath: restored.path,
                          branch: restored.branch,
                          deleteBranch: false
                        })
                        .pipe(
                          Effect.ignore({
                            log: "Warn",
                            message: "Could not remove a restored worktree again"
                          })
                        )
                )
              )
            if (restored !== undefined) {
              yield* engine.dispatch(
                {
                  type: "thread.worktree.restore",
                  commandId: stepCommandId(request.commandId, "restore"),
                  threadId: thread.id,
                  worktreePath: restored.path,
                  branch: restored.branch
                },
                actor
              )
            }
            yield* ports.assign(thread.id, actor)
            return yield* result(thread.id)
          })
        )
      })

      const cleanUp = Effect.fn("ThreadLifecycle.cleanUp")(function* (
        threadId: ThreadId,
        commandId: CommandId,
        actor: Actor
      ) {
        return yield* locked(
          threadId,
          Effect.gen(function* () {
            const thread = yield* getThread(threadId)
            if (thread.status !== "archived") return undefined
            const cleanup = yield* cleanWorktree(threadId, false, commandId, actor)
            return cleanup?.outcome === "removed" ? cleanup : undefined
          })
        )
      })

      const removeProject = Effect.fn("ThreadLifecycle.removeProject")(function* (
        request: {
          readonly commandId: CommandId
          readonly projectId: ProjectId
          readonly archiveThreads?: boolean
        },
        actor: Actor
      ) {
        const archived: Array<ArchiveResult> = []
        if (request.archiveThreads === true) {
          const model = yield* engine.readModel
          const active = Array.from(HashMap.values(model.threads)).filter(
            (t) => t.projectId === request.projectId && t.status === "active"
          )
          for (const thread of active) {
            archived.push(
              yield* archive(
                { commandId: stepCommandId(request.commandId, `archive-${thread.id}`), threadId: thread.id },
                actor
              )
            )
          }
        }
        const dispatched = yield* engine.dispatch(
          {
            type: "project.remove",
            commandId: request.commandId,
            projectId: request.projectId,
            ...(request.archiveThreads === undefined ? {} : { archiveThreads: request.archiveThreads })
          },
          actor
        )
        return { sequence: dispatched.sequence, projectId: request.projectId, archived }
      })

      return { archive, unarchive, delete: remove, cleanUp, removeProject }
    })
  )
}

// Startup reconciliation of archives a crash interrupted, before the gate opens: a journaled
// worktree removal waits for (or ends) the `git worktree remove` it left running, then records what
// really happened (removed, and the branch deleted as the archive would have; or, the worktree
// still there, judged again without force); an archived thread whose worktree was never looked at
// gets its cleanup decided and recorded. Nothing is forced: a change someone made is kept.
import { existsSync } from "node:fs"
import type { Actor, CommandId, SpindleError, Thread, ThreadId, WorktreeCleanup } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { stepCommandId } from "../bootstrap/bootstrapSteps.ts"
import { Engine } from "../engine/Engine.ts"
import { GitCli } from "../git/GitCli.ts"
import { settleOrphanedGit } from "../git/orphanedGit.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { storeFailed } from "../persistence/storageFull.ts"
import { type RemovalEntry, WorktreeRemovals } from "../persistence/WorktreeRemovals.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { keptBranchReason, makeWorktreeCleanup } from "./worktreeCleanup.ts"
import { worktreePresence } from "./worktreePresence.ts"

const server: Actor = { kind: "server" }

/** How long a `git worktree remove` left running may take to finish by itself before it is ended. */
const REMOVE_SETTLE_MS = 30_000

export class ArchiveRecovery extends Context.Service<
  ArchiveRecovery,
  {
    /** Records a cleanup for every archive a crash interrupted; answers the threads it recorded. */
    readonly recover: Effect.Effect<ReadonlyArray<string>, SpindleError>
  }
>()("spindle/lifecycle/ArchiveRecovery") {
  static readonly layer = Layer.effect(
    ArchiveRecovery,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const worktrees = yield* Worktrees
      const repositories = yield* Repositories
      const watch = yield* ThreadWatch
      const removals = yield* WorktreeRemovals
      const cleanWorktree = makeWorktreeCleanup({ engine, git, worktrees, watch, removals })
      const now = Effect.map(DateTime.now, DateTime.formatIso)

      /**
       * The worktree is gone (its git finished before or after the crash): what the archive would
       * have done next (forget it in git, delete the branch if it holds nothing new), then record it.
       */
      const recordGone = (thread: Thread, repo: string, planned: WorktreeCleanup, commandId: CommandId) =>
        Effect.gen(function* () {
          const path = planned.worktreePath ?? ""
          yield* worktrees
            .pruneMissing(repo)
            .pipe(Effect.ignore({ log: "Debug", message: "git worktree prune failed" }))
          const branch = planned.branch
          const exists = branch !== null && (yield* repositories.branchExists(repo, branch))
          const head =
            planned.head ??
            (exists ? (yield* git.runOk(["rev-parse", `refs/heads/${branch}`], { cwd: repo })).trim() : null)
          const deleted = exists && (yield* worktrees.deleteBranch(repo, branch))
          const unpushed = exists && !deleted ? yield* repositories.uniqueCommits(repo, branch) : 0
          const cleanup: WorktreeCleanup = {
            ...planned,
            head,
            // Gone already: the archive deleted it before the crash.
            branchDeleted: branch !== null && (!exists || deleted),
            reasons: [
              ...planned.reasons,
              ...(existsSync(path)
                ? [
                    `${path} is no longer a git worktree; it was left as it is: remove it once nothing in it is needed.`
                  ]
                : []),
              ...(exists && !deleted && branch !== null
                ? [keptBranchReason(thread.id, branch, unpushed)]
                : [])
            ],
            at: yield* now
          }
          yield* engine.dispatch(
            { type: "thread.worktree.record", commandId, threadId: thread.id, cleanup },
            server
          )
        })

      /** Judges the worktree again as it is now, or records it gone. */
      const judge = (thread: Thread, repo: string, planned: WorktreeCleanup, commandId: CommandId) =>
        Effect.gen(function* () {
          const path = thread.workspace.worktreePath
          const presence =
            path === null
              ? "missing"
              : yield* worktreePresence(repositories, repo, path, thread.workspace.mode)
          if (presence !== "missing" || !thread.workspace.createdByUs) {
            yield* cleanWorktree(thread.id, false, commandId, server, { waitForSession: false })
          } else {
            yield* recordGone(thread, repo, planned, stepCommandId(commandId, "worktree"))
          }
        })

      const finishRemoval = (entry: RemovalEntry) =>
        Effect.gen(function* () {
          yield* settleOrphanedGit(entry.worktreePath, REMOVE_SETTLE_MS, undefined, entry.gitGroup)
          const thread = yield* engine.getThread(entry.threadId as ThreadId)
          // Recorded before the crash (only forgetting the entry was left), or nothing to record.
          if (thread !== undefined && thread.status === "archived" && thread.cleanup?.outcome !== "removed") {
            yield* judge(thread, entry.repo, entry.planned, stepCommandId(entry.commandId, "recovered"))
          }
          yield* removals.finish(entry.commandId)
        })

      const recover = Effect.gen(function* () {
        const recorded: Array<string> = []
        const attempt = (threadId: string, effect: Effect.Effect<void, { readonly message: string }>) =>
          effect.pipe(
            Effect.andThen(Effect.sync(() => recorded.push(threadId))),
            Effect.catch((error) =>
              Effect.logWarning(
                `Could not settle the archive of ${threadId} after a restart: ${error.message}`
              )
            )
          )
        const inFlight = yield* removals.inFlight.pipe(
          Effect.mapError(storeFailed("Recovery (stage archives) reading the worktree removals journal"))
        )
        for (const entry of inFlight) {
          yield* attempt(entry.threadId, finishRemoval(entry))
        }
        // Archived, but the crash came before its worktree was looked at: decide it now.
        for (const thread of HashMap.values((yield* engine.readModel).threads)) {
          const path = thread.workspace.worktreePath
          if (
            !engine.owns(thread) ||
            thread.status !== "archived" ||
            thread.deletedAt !== null ||
            thread.cleanup !== null ||
            path === null
          )
            continue
          const project = yield* engine.getProject(thread.projectId)
          if (project === undefined) continue
          // No journal names its git (a removal by an older Spindle): found by its path.
          yield* settleOrphanedGit(path, REMOVE_SETTLE_MS)
          const planned: WorktreeCleanup = {
            outcome: "removed",
            reasons: ["The worktree was already gone when Spindle looked at it again after a restart."],
            worktreePath: path,
            branch: thread.workspace.branch,
            head: null,
            branchDeleted: false,
            lost: null,
            at: yield* now
          }
          yield* attempt(
            thread.id,
            judge(thread, project.workspaceRoot, planned, stepCommandId(`archived-${thread.id}`, "recovered"))
          )
        }
        if (recorded.length > 0)
          yield* Effect.logInfo("Recorded the worktree cleanup of archives a restart interrupted").pipe(
            Effect.annotateLogs({ threads: recorded })
          )
        return recorded
      })

      return { recover }
    })
  )
}

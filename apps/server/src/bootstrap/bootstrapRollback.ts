// Undoing a bootstrap that failed before its turn, whether it failed now (the dispatcher) or a
// crash interrupted it (recovery): remove the worktree and branch it created, only while they
// hold no new work, mark the thread failed with the stage, and close the journal entry.
import type { Actor, BootstrapStage, ErrorReason, ThreadId } from "@spindle/contracts"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import type { Engine } from "../engine/Engine.ts"
import type { Repositories } from "../git/Repositories.ts"
import type { Worktrees } from "../git/Worktrees.ts"
import type { BootstrapJournal, JournalEntry } from "../persistence/BootstrapJournal.ts"
import { untilStored } from "../persistence/storageFull.ts"
import { stepCommandId } from "./bootstrapSteps.ts"

export interface RollbackServices {
  readonly engine: Engine["Service"]
  readonly journal: BootstrapJournal["Service"]
  readonly worktrees: Worktrees["Service"]
  readonly repositories: Repositories["Service"]
}

export const rollBackBootstrap = (
  services: RollbackServices,
  entry: JournalEntry,
  stage: BootstrapStage,
  error: { readonly reason: ErrorReason; readonly message: string },
  actor: Actor
) =>
  Effect.gen(function* () {
    const { engine, journal, worktrees, repositories } = services
    // Only what this bootstrap planned under the repository's lock is touched: the exact path
    // and branch journaled just before git ran. A bootstrap that failed before planning (say,
    // because the branch belonged to someone else) made nothing and removes nothing.
    if (entry.mode === "new_worktree" && entry.branch !== null && entry.worktreePath !== null) {
      const planned = entry.worktreePath
      const listed = yield* repositories.listWorktrees(entry.repo).pipe(Effect.orElseSucceed(() => []))
      const created = listed.find((w) => w.path === planned && w.branch === entry.branch)
      if (created?.locked === true && stage === "workspace") {
        // Still locked by `git worktree add`: a checkout that never finished (its git was ended),
        // half written, and never handed to the thread; nothing in it is anyone's work.
        yield* worktrees.discardMade(entry.repo, [created.path], entry.branch)
      } else if (created !== undefined) {
        yield* worktrees
          .remove({ repo: entry.repo, worktreePath: created.path, branch: entry.branch, deleteBranch: true })
          .pipe(
            Effect.catch((e) =>
              Effect.logWarning(`Kept ${created.path} after a failed bootstrap: ${e.message}`)
            )
          )
      } else if (!listed.some((w) => w.branch === entry.branch)) {
        // git made the branch but not the worktree (a crash mid-add): delete it if it holds nothing new.
        yield* worktrees
          .deleteBranch(entry.repo, entry.branch)
          .pipe(Effect.ignore({ log: "Warn", message: "Could not delete a rolled-back bootstrap's branch" }))
      }
    }
    const thread = yield* engine.getThread(entry.threadId as ThreadId)
    if (thread?.bootstrap.status === "running") {
      yield* engine
        .dispatch(
          {
            type: "thread.bootstrap.fail",
            commandId: stepCommandId(entry.commandId, "fail"),
            threadId: thread.id,
            stage,
            error: { reason: error.reason, message: error.message }
          },
          actor
        )
        .pipe(
          untilStored(`The failed bootstrap of ${thread.id}`),
          Effect.catch((e) =>
            Effect.logWarning(`Could not record the failed bootstrap of ${thread.id}: ${e.message}`)
          )
        )
    }
    const at = DateTime.formatIso(yield* DateTime.now)
    yield* journal
      .update(
        entry.commandId,
        { stage: "failed", error: { reason: error.reason, message: error.message } },
        at
      )
      .pipe(
        untilStored(`Bootstrap ${entry.commandId}'s journal`),
        // The entry then stays in flight: the next start's recovery finds it rolled back and says so.
        Effect.catch((stored) =>
          Effect.logWarning(
            `Could not record bootstrap ${entry.commandId} as failed (${stored.message}); the next start settles it`
          )
        )
      )
  })

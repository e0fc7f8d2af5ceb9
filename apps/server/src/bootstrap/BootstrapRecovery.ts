// Startup reconciliation, before the gate opens: bootstraps a crash interrupted are finished
// (only the turn request was left) or rolled back (a queued thread's is put back in the queue:
// the queue's runner starts it, in order, once the server is ready), setup runs that were running become
// `interrupted`, and worktrees under `<home>/worktrees` that no thread owns are reported, and
// removed only when clean and created by us. Nothing with uncommitted or unique work is removed.
import { realpath } from "node:fs/promises"
import { sep } from "node:path"
import {
  type Actor,
  type BootstrapResult,
  type SpindleError,
  type ThreadId,
  TurnId
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import { Engine } from "../engine/Engine.ts"
import { settleOrphanedGit } from "../git/orphanedGit.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { BootstrapJournal, type JournalEntry } from "../persistence/BootstrapJournal.ts"
import { storeFailed } from "../persistence/storageFull.ts"
import { inPool } from "../pool/WorktreePool.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import { rollBackBootstrap } from "./bootstrapRollback.ts"
import { stepCommandId } from "./bootstrapSteps.ts"

export interface OrphanedWorktree {
  readonly projectId: string
  readonly path: string
  readonly branch: string | null
  /** removed: it was clean and ours; kept: why it was left alone. */
  readonly action: "removed" | "kept"
  readonly reason: string
}

export interface RecoveryReport {
  readonly finished: ReadonlyArray<string>
  readonly rolledBack: ReadonlyArray<string>
  readonly interruptedSetups: ReadonlyArray<string>
  readonly orphanedWorktrees: ReadonlyArray<OrphanedWorktree>
}

const emptyReport: RecoveryReport = {
  finished: [],
  rolledBack: [],
  interruptedSetups: [],
  orphanedWorktrees: []
}

const server: Actor = { kind: "server" }
const INTERRUPTED =
  "The server stopped during this step; nothing it started was left behind. Start the thread again."

export class BootstrapRecovery extends Context.Service<
  BootstrapRecovery,
  {
    /** Reconciles the journal, the threads and the worktrees; run once before `ready`. */
    readonly recover: Effect.Effect<RecoveryReport, SpindleError>
    /** What the last recovery did (for /health and snapshots). */
    readonly report: Effect.Effect<RecoveryReport>
  }
>()("spindle/bootstrap/BootstrapRecovery") {
  /** A recovery that already ran and found `report` (for tests of what shows it). */
  static readonly layerTest = (report: Partial<RecoveryReport>) =>
    Layer.succeed(BootstrapRecovery, {
      recover: Effect.succeed({ ...emptyReport, ...report }),
      report: Effect.succeed({ ...emptyReport, ...report })
    })

  static readonly layer = Layer.effect(
    BootstrapRecovery,
    Effect.gen(function* () {
      const engine = yield* Engine
      const journal = yield* BootstrapJournal
      const worktrees = yield* Worktrees
      const repositories = yield* Repositories
      const setupScripts = yield* SetupScripts
      const last = yield* Ref.make(emptyReport)
      const now = Effect.map(DateTime.now, DateTime.formatIso)

      const send = Effect.fn("BootstrapRecovery.send")(function* (
        command: Parameters<typeof engine.dispatch>[0]
      ) {
        return yield* engine
          .dispatch(command, server)
          .pipe(
            Effect.catch((error) =>
              Effect.logWarning(`Recovery could not record ${command.type}: ${error.message}`)
            )
          )
      })

      const rollBack = Effect.fn("BootstrapRecovery.rollBack")(function* (
        entry: JournalEntry,
        stage: "workspace" | "setup" | "create-thread"
      ) {
        return yield* rollBackBootstrap(
          { engine, journal, worktrees, repositories },
          entry,
          stage,
          { reason: "unavailable", message: INTERRUPTED },
          server
        )
      })

      /**
       * The journal says the workspace was ready; make sure the thread heard of it too (a crash
       * can fall between the journal write and the event), so it is neither lost nor orphaned.
       */
      const ensureWorkspaceRecorded = Effect.fn("BootstrapRecovery.ensureWorkspaceRecorded")(function* (
        entry: JournalEntry
      ) {
        const thread = yield* engine.getThread(entry.threadId as ThreadId)
        const ready = entry.result
        if (thread === undefined || thread.workspace.worktreePath !== null || ready === null) return
        yield* send({
          type: "thread.workspace.record",
          commandId: stepCommandId(entry.commandId, "workspace"),
          threadId: thread.id,
          workspace: {
            mode: ready.mode,
            branch: ready.branch,
            worktreePath: ready.worktreePath,
            baseBranch: ready.baseBranch,
            createdByUs: entry.createdByUs
          },
          warnings: ready.warnings
        })
      })

      /** Only the turn request was left: send it, as the bootstrap would have. */
      const finishTurn = Effect.fn("BootstrapRecovery.finishTurn")(function* (entry: JournalEntry) {
        yield* ensureWorkspaceRecorded(entry)
        const thread = yield* engine.getThread(entry.threadId as ThreadId)
        if (thread !== undefined && thread.latestTurn?.turnId !== entry.turnId) {
          yield* send({
            type: "thread.turn.request",
            commandId: stepCommandId(entry.commandId, "turn"),
            threadId: thread.id,
            turnId: TurnId.make(entry.turnId),
            prompt: entry.prompt
          })
        }
        yield* completeBootstrap(entry, { turn: { status: "requested" } })
      })

      /** Marks the thread's bootstrap completed (if it still runs) and the journal entry done. */
      const completeBootstrap = (
        entry: JournalEntry,
        outcome: Partial<Pick<BootstrapResult, "setup" | "turn">>
      ) =>
        Effect.gen(function* () {
          const thread = yield* engine.getThread(entry.threadId as ThreadId)
          if (thread?.bootstrap.status === "running") {
            yield* send({
              type: "thread.bootstrap.complete",
              commandId: stepCommandId(entry.commandId, "complete"),
              threadId: thread.id
            })
          }
          const result = entry.result === null ? null : { ...entry.result, ...outcome }
          yield* journal
            .update(entry.commandId, { stage: "done", result }, yield* now)
            .pipe(
              Effect.mapError(storeFailed(`Recovery (stage done) recording bootstrap ${entry.commandId}`))
            )
        })

      /** Setup was running when the server stopped: record it interrupted; the workspace stays. */
      const interruptSetup = Effect.fn("BootstrapRecovery.interruptSetup")(function* (
        threadId: ThreadId,
        commandId: string
      ) {
        const thread = yield* engine.getThread(threadId)
        if (thread === undefined || thread.setup.status !== "running") return false
        // Its process group may have outlived the server: end it before saying it stopped.
        if (yield* setupScripts.endOrphan(threadId, thread.setup.runs)) {
          yield* Effect.logWarning(
            `Ended the setup of ${threadId} that was still running from before the restart`
          )
        }
        yield* send({
          type: "thread.setup.finish",
          commandId: stepCommandId(commandId, `interrupted-${thread.setup.runs}`),
          threadId,
          run: thread.setup.runs,
          status: "interrupted",
          exitCode: null,
          signal: null,
          durationMs: null,
          logTail: `${thread.setup.logTail}[setup interrupted: the server stopped while it ran; rerun it with thread.setup.rerun]\n`
        })
        return true
      })

      const recover = Effect.gen(function* () {
        const finished: Array<string> = []
        const rolledBack: Array<string> = []
        const interruptedSetups: Array<string> = []
        const inFlight = yield* journal.inFlight.pipe(
          Effect.mapError(storeFailed("Recovery (stage recover) reading the bootstrap journal"))
        )
        for (const entry of inFlight) {
          // Stopped between queueing the thread and saying so in the journal, or while the queue
          // was starting it but before it left the queue: it waits in the queue, where it was.
          if (
            entry.stage === "creating-thread" &&
            (yield* engine.getThread(entry.threadId as ThreadId))?.status === "queued"
          ) {
            yield* journal
              .update(entry.commandId, { stage: "queued" }, yield* now)
              .pipe(
                Effect.mapError(storeFailed(`Recovery (stage queued) recording bootstrap ${entry.commandId}`))
              )
            continue
          }
          switch (entry.stage) {
            case "creating-thread":
            case "creating-worktree":
              // A `git worktree add` the killed server started may still be running: it is ended
              // at once (the bootstrap is rolled back anyway) before what it made is judged, so
              // nothing changes after the judgement.
              if (entry.worktreePath !== null || entry.gitGroup !== null)
                yield* settleOrphanedGit(entry.worktreePath, 0, undefined, entry.gitGroup)
              yield* rollBack(entry, entry.stage === "creating-thread" ? "create-thread" : "workspace")
              rolledBack.push(entry.threadId)
              break
            case "workspace-ready":
              // Setup never started: with no setup to run, only the turn was left.
              if (entry.result?.setup.status === "not-requested") {
                yield* finishTurn(entry)
                finished.push(entry.threadId)
              } else {
                yield* rollBack(entry, "setup")
                rolledBack.push(entry.threadId)
              }
              break
            case "running-setup": {
              yield* ensureWorkspaceRecorded(entry)
              if (yield* interruptSetup(entry.threadId as ThreadId, entry.commandId))
                interruptedSetups.push(entry.threadId)
              yield* completeBootstrap(entry, {
                setup: { status: "interrupted" },
                turn: { status: "not-started" }
              })
              break
            }
            case "requesting-turn":
              yield* finishTurn(entry)
              finished.push(entry.threadId)
              break
            default:
              break
          }
        }
        // Setup reruns outside a bootstrap leave no journal entry; the thread says it was running.
        for (const thread of HashMap.values((yield* engine.readModel).threads)) {
          if (
            engine.owns(thread) &&
            thread.setup.status === "running" &&
            (yield* interruptSetup(thread.id, `recovery-${thread.id}`))
          ) {
            interruptedSetups.push(thread.id)
          }
        }
        const orphanedWorktrees = yield* reconcileWorktrees
        const report = { finished, rolledBack, interruptedSetups, orphanedWorktrees }
        yield* Ref.set(last, report)
        if (finished.length + rolledBack.length + interruptedSetups.length + orphanedWorktrees.length > 0) {
          yield* Effect.logInfo("Recovered from an interrupted run").pipe(Effect.annotateLogs({ ...report }))
        }
        return report
      })

      const reconcileWorktrees = Effect.gen(function* () {
        const model = yield* engine.readModel
        const root = yield* Effect.promise(() => realpath(worktrees.root).catch(() => worktrees.root))
        const owned = new Set(
          Array.from(HashMap.values(model.threads), (t) => t.workspace.worktreePath).filter((p) => p !== null)
        )
        const ours = new Set(
          (yield* journal.createdBranches.pipe(
            Effect.mapError(storeFailed("Recovery (stage orphaned worktrees) reading the bootstrap journal"))
          )).map((b) => `${b.repo}\u0000${b.branch}`)
        )
        const orphans: Array<OrphanedWorktree> = []
        for (const project of HashMap.values(model.projects)) {
          const listed = yield* repositories
            .listWorktrees(project.workspaceRoot)
            .pipe(
              Effect.catch((error) =>
                Effect.as(
                  Effect.logWarning(
                    `Could not list the worktrees of ${project.workspaceRoot}: ${error.message}`
                  ),
                  []
                )
              )
            )
          for (const entry of listed) {
            // The pool reconciles its own slots when it starts.
            if (!entry.path.startsWith(root + sep) || owned.has(entry.path) || inPool(root, entry.path))
              continue
            const orphan = { projectId: project.id, path: entry.path, branch: entry.branch }
            const createdByUs =
              entry.branch !== null && ours.has(`${project.workspaceRoot}\u0000${entry.branch}`)
            if (!createdByUs) {
              orphans.push({ ...orphan, action: "kept", reason: "not created by a Spindle bootstrap" })
              continue
            }
            const removed = yield* worktrees
              .remove({
                repo: project.workspaceRoot,
                worktreePath: entry.path,
                branch: entry.branch,
                deleteBranch: true
              })
              .pipe(
                Effect.as({
                  ...orphan,
                  action: "removed" as const,
                  reason: "clean, created by Spindle, owned by no thread"
                }),
                Effect.catch((error) =>
                  Effect.succeed({ ...orphan, action: "kept" as const, reason: error.message })
                )
              )
            orphans.push(removed)
          }
        }
        return orphans
      })

      return { recover: recover.pipe(Effect.withSpan("BootstrapRecovery.recover")), report: Ref.get(last) }
    })
  )
}

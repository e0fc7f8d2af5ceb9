// The one path for a `thread.turn.start` that carries `bootstrap`, whoever sends it: through the
// startup gate, then the run's steps (bootstrapRun.ts). Identical sends join one run, a repeated
// commandId answers its recorded outcome, and a failure after the thread exists is rolled back.
// Setup and the turn go on in a fiber the dispatcher owns, so a caller that goes away does not stop them.
// A start past a limit is queued (its thread exists, status `queued`) and answered so; the queue's
// runner sends it again (`fromQueue`) when a slot frees, under the same commandId.
import { type BootstrapAnswer, SpindleError, type ThreadId } from "@spindle/contracts"
import { makeKeyedLock } from "@spindle/shared/keyedLock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { BootstrapJournal } from "../persistence/BootstrapJournal.ts"
import { storeFailed } from "../persistence/storageFull.ts"
import { WorktreePool } from "../pool/WorktreePool.ts"
import { ThreadPorts } from "../ports/ThreadPorts.ts"
import { ProviderAdapters } from "../providers/ProviderAdapters.ts"
import { rollBackBootstrap } from "./bootstrapRollback.ts"
import { makeBootstrapRun, newProgress, queuedAnswer, unexpected } from "./bootstrapRun.ts"
import {
  type BootstrapInvocation,
  type InFlight,
  payloadHash,
  StepFailure,
  stepCommandId
} from "./bootstrapSteps.ts"
import { CrashPoints } from "./CrashPoints.ts"
import { SetupRunner } from "./SetupRunner.ts"
import { StartupGate } from "./StartupGate.ts"

export type { BootstrapInvocation } from "./bootstrapSteps.ts"

export class BootstrapTurnStartDispatcher extends Context.Service<
  BootstrapTurnStartDispatcher,
  {
    readonly dispatch: (invocation: BootstrapInvocation) => Effect.Effect<BootstrapAnswer, SpindleError>
  }
>()("spindle/bootstrap/BootstrapTurnStartDispatcher") {
  static readonly layer = Layer.effect(
    BootstrapTurnStartDispatcher,
    Effect.gen(function* () {
      const engine = yield* Engine
      const gate = yield* StartupGate
      const journal = yield* BootstrapJournal
      const repositories = yield* Repositories
      const worktrees = yield* Worktrees
      const setupRunner = yield* SetupRunner
      const scope: Scope.Scope = yield* Effect.scope
      // Read here, where the composition root provided it, not from each caller's fiber.
      const crash = yield* CrashPoints
      const adapters = yield* ProviderAdapters
      const ports = yield* ThreadPorts
      const pool = yield* WorktreePool
      const { home } = yield* ServerConfig
      const steps = makeBootstrapRun({
        engine,
        gate,
        journal,
        repositories,
        worktrees,
        setupRunner,
        crash,
        adapters,
        ports,
        pool,
        home
      })

      const inFlight = new Map<string, InFlight>()
      const threadLock = makeKeyedLock<ThreadId>()
      // Waiting behind another bootstrap of this thread (maybe through its setup) must not hold up
      // the startup queue: let the next in line go first.
      const withThreadLock = <A, E, R>(threadId: ThreadId, effect: Effect.Effect<A, E, R>) =>
        Effect.suspend(() =>
          Effect.andThen(
            threadLock.busy(threadId) ? gate.admitted : Effect.void,
            threadLock(threadId, effect)
          )
        )

      /** The bootstrap's own run, in the dispatcher's scope; a failure past validation is rolled back. */
      const run = (invocation: BootstrapInvocation, hash: string, flight: InFlight) => {
        const progress = newProgress()
        return steps(invocation, hash, flight, progress).pipe(
          Effect.catchDefect((defect) =>
            Effect.fail(new StepFailure({ stage: progress.stage, error: unexpected(defect) }))
          ),
          Effect.catch((failure: StepFailure) =>
            Effect.gen(function* () {
              const { commandId, threadId } = invocation.command
              const error = new SpindleError({
                ...failure.error,
                reason: failure.error.reason,
                message: failure.error.message,
                threadId,
                commandId
              })
              if (failure.stage === "validate") {
                // A queued start whose request no longer holds (its branch was taken, its parent
                // archived...) leaves the queue failed, so the next may go.
                if (invocation.fromQueue === true && failure.takenElsewhere !== true)
                  yield* failQueued(invocation, error)
                return yield* Effect.fail(error)
              }
              // Unreadable now, the entry stays in flight and the next start's recovery rolls it back.
              const entry = yield* journal
                .get(commandId)
                .pipe(
                  Effect.catch((stored) =>
                    Effect.as(
                      Effect.logWarning(
                        `Could not read bootstrap ${commandId}'s journal to roll it back (${stored.message}); the next start rolls it back`
                      ),
                      undefined
                    )
                  )
                )
              if (entry !== undefined) {
                yield* rollBackBootstrap(
                  { engine, journal, worktrees, repositories },
                  entry,
                  failure.stage,
                  error,
                  invocation.actor
                )
              }
              return yield* Effect.fail(error)
            })
          )
        )
      }

      /** Records a queued thread's start as failed (if it still waits) and closes its journal entry. */
      const failQueued = (invocation: BootstrapInvocation, error: SpindleError) =>
        Effect.gen(function* () {
          const { commandId, threadId } = invocation.command
          const recorded = yield* engine
            .dispatch(
              {
                type: "thread.bootstrap.fail",
                commandId: stepCommandId(commandId, "fail-queued"),
                threadId,
                stage: "validate",
                error: { reason: error.reason, message: error.message }
              },
              invocation.actor
            )
            .pipe(
              Effect.as(true),
              Effect.catch((refused) =>
                Effect.as(
                  Effect.logWarning(`A queued start's failure was not recorded: ${refused.message}`),
                  false
                )
              )
            )
          // Refused (the thread left the queue meanwhile), the journal entry is another start's.
          if (!recorded) return
          const at = DateTime.formatIso(yield* DateTime.now)
          yield* journal
            .update(
              commandId,
              { stage: "failed", error: { reason: error.reason, message: error.message } },
              at
            )
            .pipe(Effect.ignore({ log: "Warn", message: "Could not close a queued start's journal entry" }))
        })

      /**
       * A repeated commandId: the recorded outcome, or a conflict when the payload differs. A start
       * that waits in the queue answers its place now; sent again by the queue, it goes on.
       */
      const recorded = Effect.fn("BootstrapTurnStartDispatcher.recorded")(function* (
        commandId: string,
        hash: string,
        fromQueue: boolean
      ) {
        const entry = yield* journal
          .get(commandId)
          .pipe(Effect.mapError(storeFailed(`Reading bootstrap ${commandId}'s journal (stage validate)`)))
        if (entry === undefined) return undefined
        if (entry.payloadHash !== hash) {
          return yield* new SpindleError({
            reason: "conflict",
            message: `commandId ${commandId} was already used for a different bootstrap. Use a new commandId.`
          })
        }
        if (entry.stage === "queued") {
          return fromQueue ? undefined : yield* queuedAnswer(engine, entry.threadId as ThreadId)
        }
        if (fromQueue) {
          return yield* new SpindleError({
            reason: "conflict",
            threadId: entry.threadId as ThreadId,
            message: `The start ${commandId} of thread ${entry.threadId} is not queued (it is ${entry.stage}).`
          })
        }
        if (entry.stage === "failed") {
          return yield* new SpindleError({
            reason: (entry.error?.reason as SpindleError["reason"]) ?? "internal",
            message: entry.error?.message ?? "This bootstrap failed.",
            threadId: entry.threadId as ThreadId
          })
        }
        return entry.result ?? undefined
      })

      const dispatch: (invocation: BootstrapInvocation) => Effect.Effect<BootstrapAnswer, SpindleError> =
        Effect.fn("BootstrapTurnStartDispatcher.dispatch")(function* (invocation: BootstrapInvocation) {
          return yield* gate.enqueue(
            Effect.suspend(() => {
              const { commandId } = invocation.command
              const hash = payloadHash({ command: invocation.command, parent: invocation.parent ?? null })
              const wait = (flight: InFlight) =>
                Deferred.await(invocation.await === "workspace" ? flight.workspace : flight.final)
              const joined = inFlight.get(commandId)
              // The queue sends a start again only once its first send has answered (queued).
              if (joined !== undefined && invocation.fromQueue === true) {
                return Effect.andThen(
                  Effect.exit(Deferred.await(joined.final)),
                  Effect.suspend(() => dispatch(invocation))
                )
              }
              if (joined !== undefined) {
                // Joining admits nothing new: let whatever queued behind this send go on.
                return Effect.andThen(
                  gate.admitted,
                  joined.hash === hash
                    ? wait(joined)
                    : Effect.fail(
                        new SpindleError({
                          reason: "conflict",
                          message: `commandId ${commandId} is in use by a different bootstrap. Use a new commandId.`
                        })
                      )
                )
              }
              // Registered before anything yields, so identical concurrent sends all join this one.
              const flight: InFlight = {
                hash,
                workspace: Deferred.makeUnsafe(),
                final: Deferred.makeUnsafe()
              }
              inFlight.set(commandId, flight)
              const settle = (exit: Exit.Exit<BootstrapAnswer, SpindleError>) =>
                Effect.gen(function* () {
                  yield* Deferred.done(flight.workspace, exit)
                  yield* Deferred.done(flight.final, exit)
                  inFlight.delete(commandId)
                  yield* gate.admitted
                })
              const body = Effect.gen(function* () {
                const previous = yield* recorded(commandId, hash, invocation.fromQueue === true)
                if (previous !== undefined) return previous
                return yield* withThreadLock(invocation.command.threadId, run(invocation, hash, flight))
              }).pipe(
                Effect.catchDefect((defect) => Effect.fail(unexpected(defect))),
                Effect.onExit(settle)
              )
              return Effect.andThen(Effect.forkIn(body, scope), wait(flight))
            })
          )
        })

      return { dispatch }
    })
  )
}

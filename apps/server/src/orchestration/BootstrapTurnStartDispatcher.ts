// The one path for a `thread.turn.start` that carries `bootstrap`, whoever sends it: through the
// startup gate, then validate, create the thread, prepare the workspace, run setup, request the
// first turn. Each step is journaled before it runs and recorded as an event. Setup and the turn
// go on in a fiber the dispatcher owns, so a caller that goes away does not stop them.
import {
  type BootstrapResult,
  type BootstrapStage,
  type ProjectId,
  SpindleError,
  type ThreadId
} from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { BootstrapJournal, type JournalPatch } from "../persistence/BootstrapJournal.ts"
import { planBootstrap, prepareWorkspace } from "./bootstrapPlan.ts"
import { rollBackBootstrap } from "./bootstrapRollback.ts"

export type { BootstrapInvocation } from "./bootstrapSteps.ts"

import {
  type BootstrapInvocation,
  type InFlight,
  payloadHash,
  StepFailure,
  stepCommandId
} from "./bootstrapSteps.ts"
import { crashPoint } from "./crashPoint.ts"
import { Engine } from "./Engine.ts"
import { SetupRunner } from "./SetupRunner.ts"
import { StartupGate } from "./StartupGate.ts"

export class BootstrapTurnStartDispatcher extends Context.Service<
  BootstrapTurnStartDispatcher,
  {
    readonly dispatch: (invocation: BootstrapInvocation) => Effect.Effect<BootstrapResult, SpindleError>
  }
>()("spindle/orchestration/BootstrapTurnStartDispatcher") {
  static readonly layer = Layer.effect(
    BootstrapTurnStartDispatcher,
    Effect.gen(function* () {
      const engine = yield* Engine
      const gate = yield* StartupGate
      const journal = yield* BootstrapJournal
      const repositories = yield* Repositories
      const worktrees = yield* Worktrees
      const setupRunner = yield* SetupRunner
      const config = yield* ServerConfig
      const scope: Scope.Scope = yield* Effect.scope

      const inFlight = new Map<string, InFlight>()
      /** The threads each project is bootstrapping right now. */
      const perProject = new Map<ProjectId, Set<ThreadId>>()
      const threadLocks = new Map<ThreadId, Semaphore.Semaphore>()
      const withThreadLock = <A, E, R>(threadId: ThreadId, effect: Effect.Effect<A, E, R>) => {
        let lock = threadLocks.get(threadId)
        if (lock === undefined) {
          lock = Semaphore.makeUnsafe(1)
          threadLocks.set(threadId, lock)
        }
        return lock.withPermit(effect)
      }

      const now = Effect.map(DateTime.now, DateTime.formatIso)
      const internal = (error: unknown) =>
        error instanceof SpindleError
          ? error
          : new SpindleError({
              reason: "internal",
              message: `Bootstrap failed unexpectedly: ${String(error)}`
            })

      /** The bootstrap's own run: everything after the caller's checks, in the dispatcher's scope. */
      const run = (invocation: BootstrapInvocation, hash: string, flight: InFlight) => {
        // Where the bootstrap is, so that even an unexpected failure is rolled back with its stage.
        const progress: { stage: BootstrapStage } = { stage: "validate" }
        return Effect.gen(function* () {
          const { command, actor } = invocation
          const commandId = command.commandId
          const threadId = command.threadId
          const startedAt = yield* Clock.currentTimeMillis
          const step = (name: string) => stepCommandId(commandId, name)
          const record = (patch: JournalPatch) =>
            Effect.flatMap(now, (at) => journal.update(commandId, patch, at))

          // The project's bootstrap slot is taken before anything yields, so a burst cannot
          // slip past the limit while each one is still validating.
          const projectId = command.bootstrap.createThread.projectId
          const running = perProject.get(projectId) ?? new Set<ThreadId>()
          if (running.size >= config.limits.bootstrapsPerProject) {
            return yield* new StepFailure({
              stage: "validate",
              error: new SpindleError({
                reason: "capacity",
                projectId,
                message: `Project ${projectId} is already bootstrapping ${config.limits.bootstrapsPerProject} threads. Retry when one finishes, or raise --max-bootstraps-per-project.`
              })
            })
          }
          perProject.set(projectId, running.add(threadId))
          yield* Effect.addFinalizer(() => Effect.sync(() => running.delete(threadId)))
          const plan = yield* planBootstrap(
            {
              repositories,
              worktrees,
              limits: config.limits,
              bootstrapsInFlight: (id) => [...(perProject.get(id) ?? [])].filter((t) => t !== threadId)
            },
            yield* engine.readModel,
            command,
            invocation.parent
          ).pipe(Effect.mapError((error) => new StepFailure({ stage: "validate", error })))

          const warnings = [...plan.warnings]
          let sequence = 0
          let setupStatus: BootstrapResult["setup"]["status"] = plan.runSetupScript
            ? "pending"
            : "not-requested"
          let workspace = {
            branch: null as string | null,
            worktreePath: "",
            baseBranch: null as string | null
          }
          const result = (turn: BootstrapResult["turn"]["status"]) =>
            Effect.map(
              Clock.currentTimeMillis,
              (t): BootstrapResult => ({
                threadId,
                projectId,
                parentThreadId: plan.parentThreadId,
                sequence,
                mode: plan.mode,
                ...workspace,
                setup: { status: setupStatus },
                turn: { status: turn },
                warnings: [...warnings],
                durationMs: t - startedAt
              })
            )
          const send = (stage: BootstrapStage, cmd: Parameters<typeof engine.dispatch>[0]) =>
            engine.dispatch(cmd, actor).pipe(
              Effect.tap((r) => Effect.sync(() => (sequence = r.sequence))),
              Effect.mapError((error) => new StepFailure({ stage, error }))
            )

          yield* journal
            .begin(
              {
                commandId,
                payloadHash: hash,
                threadId,
                projectId,
                repo: plan.project.workspaceRoot,
                mode: plan.mode,
                stage: "creating-thread",
                branch: plan.workspace.mode === "new_worktree" ? plan.workspace.branch : null,
                worktreePath: null,
                prompt: plan.prompt,
                turnId: plan.turnId,
                createdByUs: false,
                result: null,
                error: null
              },
              yield* now
            )
            .pipe(Effect.orDie)

          // Step 2: the thread, so clients see it at once.
          progress.stage = "create-thread"
          yield* send("create-thread", {
            type: "thread.bootstrap.begin",
            commandId: step("begin"),
            threadId,
            projectId,
            parentThreadId: plan.parentThreadId,
            title: plan.title,
            tags: plan.tags,
            provider: plan.provider,
            model: plan.model,
            runtimeMode: plan.runtimeMode,
            interactionMode: plan.interactionMode,
            workspaceMode: plan.mode,
            runSetupScript: plan.runSetupScript
          })

          // Step 3: the workspace, by mode. What this bootstrap creates it also removes on failure.
          progress.stage = "workspace"
          yield* record({ stage: "creating-worktree" }).pipe(Effect.orDie)
          const prepared = yield* prepareWorkspace(worktrees, plan, ({ path }) =>
            record({ worktreePath: path }).pipe(Effect.orDie)
          ).pipe(Effect.mapError((error) => new StepFailure({ stage: "workspace", error })))
          yield* crashPoint("worktree-created")
          workspace = {
            branch: prepared.branch,
            worktreePath: prepared.worktreePath,
            baseBranch: prepared.baseBranch
          }
          warnings.push(...prepared.warnings)
          const rollbackWorkspace = prepared.createdByUs
            ? worktrees
                .remove({
                  repo: plan.project.workspaceRoot,
                  worktreePath: prepared.worktreePath,
                  branch: prepared.branch,
                  deleteBranch: true
                })
                .pipe(Effect.asVoid, Effect.ignore)
            : Effect.void
          const workspaceReady = yield* result(plan.runSetupScript ? "waiting-for-setup" : "started")
          yield* record({
            stage: "workspace-ready",
            worktreePath: prepared.worktreePath,
            createdByUs: prepared.createdByUs,
            result: workspaceReady
          }).pipe(Effect.orDie)
          yield* crashPoint("workspace-journaled")
          yield* send("workspace", {
            type: "thread.workspace.record",
            commandId: step("workspace"),
            threadId,
            workspace: {
              mode: plan.mode,
              branch: prepared.branch,
              worktreePath: prepared.worktreePath,
              baseBranch: prepared.baseBranch,
              createdByUs: prepared.createdByUs
            },
            warnings: prepared.warnings
          }).pipe(Effect.tapError(() => rollbackWorkspace))
          if (plan.runSetupScript)
            yield* Deferred.succeed(flight.workspace, yield* result("waiting-for-setup"))

          // Step 4: setup, in every mode that has a path, when asked.
          progress.stage = "setup"
          if (plan.runSetupScript) {
            yield* record({ stage: "running-setup" }).pipe(Effect.orDie)
            const outcome = yield* setupRunner
              .runAndRecord({
                threadId,
                project: plan.project,
                worktreePath: prepared.worktreePath,
                branch: prepared.branch,
                commandId: step("setup"),
                actor
              })
              .pipe(Effect.mapError((error) => new StepFailure({ stage: "setup", error })))
            sequence = Math.max(sequence, outcome.sequence)
            setupStatus = outcome.status
            const passed = outcome.status === "succeeded" || outcome.status === "no-script"
            if (!passed && plan.onSetupFailure === "stop") {
              yield* send("setup", {
                type: "thread.bootstrap.complete",
                commandId: step("complete"),
                threadId
              })
              const final = yield* result("not-started")
              yield* record({ stage: "done", result: final }).pipe(Effect.orDie)
              return final
            }
            if (!passed)
              warnings.push(
                `Setup ${outcome.status}; the first turn was started anyway (onSetupFailure: continue).`
              )
          }

          // Step 5: the first turn.
          progress.stage = "turn"
          yield* record({ stage: "requesting-turn" }).pipe(Effect.orDie)
          yield* crashPoint("before-turn")
          yield* send("turn", {
            type: "thread.turn.request",
            commandId: step("turn"),
            threadId,
            turnId: plan.turnId,
            prompt: plan.prompt
          })
          yield* send("turn", {
            type: "thread.bootstrap.complete",
            commandId: step("complete"),
            threadId
          })
          const final = yield* result("started")
          yield* record({ stage: "done", result: final }).pipe(Effect.orDie)
          return final
        }).pipe(
          Effect.catchDefect((defect) =>
            Effect.fail(new StepFailure({ stage: progress.stage, error: internal(defect) }))
          ),
          Effect.scoped,
          Effect.catch((failure: StepFailure) =>
            Effect.gen(function* () {
              const error = new SpindleError({
                ...failure.error,
                reason: failure.error.reason,
                message: failure.error.message,
                threadId: invocation.command.threadId,
                commandId: invocation.command.commandId
              })
              if (failure.stage === "validate") return yield* Effect.fail(error)
              yield* rollback(invocation, failure.stage, error)
              return yield* Effect.fail(error)
            })
          )
        )
      }

      /** Undo what this bootstrap created on disk and mark the thread failed, with the stage. */
      const rollback = (invocation: BootstrapInvocation, stage: BootstrapStage, error: SpindleError) =>
        Effect.gen(function* () {
          const entry = yield* journal.get(invocation.command.commandId).pipe(Effect.orDie)
          if (entry === undefined) return
          yield* rollBackBootstrap(
            { engine, journal, worktrees, repositories },
            entry,
            stage,
            error,
            invocation.actor
          )
        })

      /** A repeated commandId: the recorded outcome, or a conflict when the payload differs. */
      const recorded = (commandId: string, hash: string) =>
        Effect.gen(function* () {
          const entry = yield* journal.get(commandId).pipe(Effect.orDie)
          if (entry === undefined) return undefined
          if (entry.payloadHash !== hash) {
            return yield* new SpindleError({
              reason: "conflict",
              message: `commandId ${commandId} was already used for a different bootstrap. Use a new commandId.`
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

      const dispatch = (invocation: BootstrapInvocation) =>
        gate.enqueue(
          Effect.suspend(() => {
            const { commandId } = invocation.command
            const hash = payloadHash({ command: invocation.command, parent: invocation.parent ?? null })
            const wait = (flight: InFlight) =>
              Deferred.await(invocation.await === "workspace" ? flight.workspace : flight.final)
            const joined = inFlight.get(commandId)
            if (joined !== undefined) {
              return joined.hash === hash
                ? wait(joined)
                : Effect.fail(
                    new SpindleError({
                      reason: "conflict",
                      message: `commandId ${commandId} is in use by a different bootstrap. Use a new commandId.`
                    })
                  )
            }
            // Registered before anything yields, so identical concurrent sends all join this one.
            const flight: InFlight = {
              hash,
              workspace: Deferred.makeUnsafe(),
              final: Deferred.makeUnsafe()
            }
            inFlight.set(commandId, flight)
            const settle = (exit: Exit.Exit<BootstrapResult, SpindleError>) =>
              Effect.gen(function* () {
                yield* Deferred.done(flight.workspace, exit)
                yield* Deferred.done(flight.final, exit)
                inFlight.delete(commandId)
              })
            const body = Effect.gen(function* () {
              const previous = yield* recorded(commandId, hash)
              if (previous !== undefined) return previous
              return yield* withThreadLock(invocation.command.threadId, run(invocation, hash, flight))
            }).pipe(
              Effect.catchDefect((defect) => Effect.fail(internal(defect))),
              Effect.onExit(settle)
            )
            return Effect.andThen(Effect.forkIn(body, scope), wait(flight))
          })
        )

      return { dispatch }
    })
  )
}

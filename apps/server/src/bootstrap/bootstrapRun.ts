// One bootstrap's run, step by step (validate, create the thread, prepare the workspace, run
// setup, request the first turn), each a named span and journaled before it has side effects.
// What joins identical sends, and what rolls a failure back, is the dispatcher's.
import type {
  BootstrapResult,
  BootstrapStage,
  QueuedBootstrapResult,
  SetupStatus,
  ThreadId
} from "@spindle/contracts"
import { SpindleError } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { SqlError } from "effect/sql/SqlError"
import { queueMessage } from "../engine/admission.ts"
import type { Engine } from "../engine/Engine.ts"
import type { Repositories } from "../git/Repositories.ts"
import type { PreparedWorktree, Worktrees } from "../git/Worktrees.ts"
import type { BootstrapJournal, JournalPatch } from "../persistence/BootstrapJournal.ts"
import { isStorageFull, storageFullMessage, storeFailed, untilStored } from "../persistence/storageFull.ts"
import type { WorktreePool } from "../pool/WorktreePool.ts"
import type { ThreadPorts } from "../ports/ThreadPorts.ts"
import type { ProviderAdapters } from "../providers/ProviderAdapters.ts"
import { approveSetupCommand } from "../setup/setupSource.ts"
import { removeAttachments, storeAttachments } from "./attachments.ts"
import { type BootstrapPlan, planBootstrap, prepareWorkspace } from "./bootstrapPlan.ts"
import { type BootstrapInvocation, type InFlight, StepFailure, stepCommandId } from "./bootstrapSteps.ts"
import type { CrashPoints } from "./CrashPoints.ts"
import type { SetupRunner } from "./SetupRunner.ts"
import type { StartupGate } from "./StartupGate.ts"

export interface RunServices {
  readonly engine: Engine["Service"]
  readonly gate: StartupGate["Service"]
  readonly journal: BootstrapJournal["Service"]
  readonly repositories: Repositories["Service"]
  readonly worktrees: Worktrees["Service"]
  readonly setupRunner: SetupRunner["Service"]
  readonly crash: (typeof CrashPoints)["Service"]
  readonly adapters: ProviderAdapters["Service"]
  readonly ports: ThreadPorts["Service"]
  readonly pool: WorktreePool["Service"]
  /** The Spindle home, where attachments are stored. */
  readonly home: string
}

/** What a run has reached so far: enough to answer, or to roll back from the right stage. */
interface Progress {
  stage: BootstrapStage
  /** Spindle's copies of the first prompt's attachments. */
  attachments: ReadonlyArray<string>
  sequence: number
  setup: SetupStatus
  workspace: { branch: string | null; worktreePath: string; baseBranch: string | null }
  readonly warnings: Array<string>
}

const now = Effect.map(DateTime.now, DateTime.formatIso)

const failAt = (stage: BootstrapStage) => (error: SpindleError) => new StepFailure({ stage, error })

export const makeBootstrapRun = (services: RunServices) => {
  const { engine, gate, journal, repositories, worktrees, setupRunner, crash, adapters, ports, pool, home } =
    services

  return (invocation: BootstrapInvocation, hash: string, flight: InFlight, progress: Progress) => {
    const { command, actor } = invocation
    const { commandId, threadId } = command
    const step = (name: string) => stepCommandId(commandId, name)
    // Once the thread exists, its steps wait out a full store rather than leave it half-way.
    const record = (patch: JournalPatch) =>
      Effect.flatMap(now, (at) => journal.update(commandId, patch, at)).pipe(
        untilStored(`Bootstrap ${commandId}'s journal`),
        Effect.mapError((error) =>
          failAt(progress.stage)(
            storeFailed(`Recording bootstrap ${commandId}'s ${patch.stage ?? progress.stage} step`)(error)
          )
        )
      )
    /**
     * `record` from inside the git layer, whose hooks cannot fail: a store failure there ends the
     * step as the same `internal` SpindleError, through the dispatcher's net for the unexpected
     * (which keeps a SpindleError as it is, at the stage in progress).
     */
    const recordFromGit = (patch: JournalPatch) =>
      record(patch).pipe(Effect.catch((failure) => Effect.die(failure.error)))
    const send = (stage: BootstrapStage, cmd: Parameters<typeof engine.dispatch>[0]) =>
      engine.dispatch(cmd, actor).pipe(
        untilStored(`Bootstrap ${commandId}'s ${cmd.type}`),
        Effect.tap((r) => Effect.sync(() => (progress.sequence = Math.max(progress.sequence, r.sequence)))),
        Effect.mapError(failAt(stage))
      )

    const answer = (plan: BootstrapPlan, startedAt: number, turn: BootstrapResult["turn"]["status"]) =>
      Effect.map(
        Clock.currentTimeMillis,
        (t): BootstrapResult => ({
          threadId,
          projectId: plan.project.id,
          parentThreadId: plan.parentThreadId,
          sequence: progress.sequence,
          mode: plan.mode,
          ...progress.workspace,
          setup: { status: progress.setup },
          turn: { status: turn },
          warnings: [...progress.warnings],
          durationMs: t - startedAt
        })
      )

    /** Step 1: everything checked before any side effect. */
    const validate = Effect.fn("Bootstrap.validate")(function* () {
      return yield* planBootstrap(
        {
          repositories,
          worktrees,
          worktreesBeingCreated: journal.inFlight.pipe(
            Effect.map((entries) =>
              entries.flatMap((e) => (e.worktreePath === null ? [] : [e.worktreePath]))
            ),
            Effect.mapError(storeFailed("Reading the bootstrap journal (stage validate)"))
          ),
          checkProvider: (project, provider, model) => {
            const adapter = adapters.get(provider)
            return adapter === undefined
              ? new SpindleError({
                  reason: "validation",
                  field: "bootstrap.createThread.provider",
                  message: `No provider ${provider} runs on this server. Use one of: ${[...adapters.keys()].join(", ")}.`
                })
              : adapter.check(project, model)
          }
        },
        yield* engine.readModel,
        command,
        invocation.parent,
        invocation.fromQueue === true
      ).pipe(Effect.mapError(failAt("validate")))
    })

    /**
     * Step 2: the thread, so clients see it at once. The engine admits it or not (limits, the
     * parent's rights, the worktree's binding) against the model as it is now; past a limit that
     * frees, it queues it instead (unless the caller said queue: false). Refused, the bootstrap
     * made nothing and leaves no journal entry behind; queued, its entry waits at `queued`.
     * Answers whether the thread is queued.
     */
    const createThread = Effect.fn("Bootstrap.createThread")(function* (plan: BootstrapPlan) {
      progress.stage = "create-thread"
      const fromQueue = invocation.fromQueue === true
      const entry = {
        commandId,
        payloadHash: hash,
        threadId,
        projectId: plan.project.id,
        repo: plan.project.workspaceRoot,
        mode: plan.mode,
        stage: "creating-thread" as const,
        branch: plan.workspace.mode === "new_worktree" ? plan.workspace.branch : null,
        worktreePath: null,
        prompt: plan.prompt,
        turnId: plan.turnId,
        createdByUs: false,
        result: null,
        error: null,
        gitGroup: null
      }
      const at = yield* now
      // A queued start's entry is already there (at `queued`): this host takes it, unless another
      // host of the store took it first (then this send stops here and changes nothing).
      const stored = (what: string) =>
        Effect.mapError((error: SqlError) => failAt("validate")(storeFailed(what)(error)))
      const taken = fromQueue
        ? yield* journal
            .claimQueued(commandId, { repo: entry.repo, branch: entry.branch }, at)
            .pipe(stored(`Taking bootstrap ${commandId} from the queue`))
        : false
      // A queued start with no entry at all (none was written) begins one like any start.
      const unrecorded =
        fromQueue &&
        !taken &&
        (yield* journal.get(commandId).pipe(stored(`Reading bootstrap ${commandId}'s journal`))) === undefined
      if (fromQueue && !taken && !unrecorded) {
        return yield* new StepFailure({
          stage: "validate",
          takenElsewhere: true,
          error: new SpindleError({
            reason: "conflict",
            threadId,
            message: `The queued start ${commandId} was taken from the queue by another host.`
          })
        })
      }
      yield* (taken ? Effect.void : journal.begin(entry, at)).pipe(
        // Nothing exists yet: a full store refuses the bootstrap at once, having made nothing.
        Effect.catchIf(isStorageFull, (error) =>
          Effect.fail(
            new StepFailure({
              stage: "validate",
              error: new SpindleError({
                reason: "storage-full",
                message: storageFullMessage(error.message)
              })
            })
          )
        ),
        Effect.mapError((error) =>
          error instanceof StepFailure
            ? error
            : failAt("validate")(storeFailed(`Starting bootstrap ${commandId}'s journal entry`)(error))
        )
      )
      const claimed =
        plan.workspace.mode === "existing_worktree"
          ? plan.workspace.adopted.worktreePath
          : plan.workspace.mode === "current_checkout"
            ? plan.workspace.path
            : null
      const backToQueue = record({ stage: "queued" })
      const begun = yield* engine
        .dispatch(
          {
            type: "thread.bootstrap.begin",
            commandId: step(fromQueue ? "dequeue" : "begin"),
            threadId,
            projectId: plan.project.id,
            parentThreadId: plan.parentThreadId,
            title: plan.title,
            tags: plan.tags,
            provider: plan.provider,
            model: plan.model,
            runtimeMode: plan.runtimeMode,
            interactionMode: plan.interactionMode,
            onDone: plan.onDone,
            ...(plan.attempt === null ? {} : { attempt: plan.attempt }),
            workspaceMode: plan.mode,
            worktreePath: claimed,
            runSetupScript: plan.runSetupScript,
            ...(fromQueue
              ? { fromQueue: true }
              : command.bootstrap.queue === false
                ? {}
                : { queue: { command, parent: invocation.parent ?? null } })
          },
          actor
        )
        .pipe(
          Effect.tap((r) => Effect.sync(() => (progress.sequence = r.sequence))),
          Effect.as(true),
          // Still full when its turn came (a slot was taken meanwhile): it stays queued, in its place.
          Effect.catchIf(
            (error) => fromQueue && error.reason === "capacity",
            () => Effect.succeed(false)
          ),
          Effect.tapError(() =>
            fromQueue
              ? Effect.void
              : journal.discard(commandId).pipe(
                  Effect.ignore({
                    log: "Warn",
                    message: "Could not discard a refused bootstrap's journal entry"
                  })
                )
          ),
          Effect.mapError(failAt("validate"))
        )
      if (!begun) {
        yield* backToQueue
        return true
      }
      const thread = yield* engine.getThread(threadId)
      if (!fromQueue && thread?.status === "queued") {
        yield* backToQueue
        return true
      }
      yield* crash.reach("thread-created")
      return false
    })

    /** Step 3: the workspace, by mode. What this bootstrap creates it also removes on failure. */
    const prepare = Effect.fn("Bootstrap.prepareWorkspace")(function* (
      plan: BootstrapPlan,
      startedAt: number
    ) {
      progress.stage = "workspace"
      yield* record({ stage: "creating-worktree" })
      const prepared: PreparedWorktree = yield* prepareWorkspace(
        worktrees,
        pool,
        plan,
        ({ path }) => Effect.andThen(recordFromGit({ worktreePath: path }), crash.reach("worktree-adding")),
        // Journaled before git starts, so a restart finds a git this crash left running.
        { record: (gitGroup) => recordFromGit({ gitGroup }), running: crash.reach("worktree-git-running") }
      ).pipe(Effect.mapError(failAt("workspace")))
      yield* crash.reach("worktree-added")
      progress.workspace = {
        branch: prepared.branch,
        worktreePath: prepared.worktreePath,
        baseBranch: prepared.baseBranch
      }
      progress.warnings.push(...prepared.warnings)
      yield* record({
        stage: "workspace-ready",
        worktreePath: prepared.worktreePath,
        createdByUs: prepared.createdByUs,
        result: yield* answer(plan, startedAt, plan.runSetupScript ? "waiting-for-setup" : "requested")
      })
      yield* crash.reach("workspace-journaled")
      const rollbackWorkspace = prepared.createdByUs
        ? worktrees
            .remove({
              repo: plan.project.workspaceRoot,
              worktreePath: prepared.worktreePath,
              branch: prepared.branch,
              deleteBranch: true
            })
            .pipe(
              Effect.ignore({ log: "Warn", message: "Could not remove the worktree of a failed bootstrap" })
            )
        : Effect.void
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
      if (plan.attachments.length > 0) {
        const stored = yield* storeAttachments(home, threadId, plan.attachments).pipe(
          Effect.mapError(failAt("workspace")),
          Effect.tapError(() => removeAttachments(home, threadId))
        )
        yield* send("workspace", {
          type: "thread.attachments.record",
          commandId: step("attachments"),
          threadId,
          attachments: stored
        }).pipe(Effect.tapError(() => removeAttachments(home, threadId)))
        progress.attachments = stored.map((attachment) => attachment.path)
      }
      return prepared
    })

    /** Step 4: setup, in every mode that has a path, when asked. True when the turn may start. */
    const setup = Effect.fn("Bootstrap.runSetup")(function* (
      plan: BootstrapPlan,
      prepared: PreparedWorktree
    ) {
      progress.stage = "setup"
      if (!plan.runSetupScript) return true
      yield* record({ stage: "running-setup" })
      const outcome = yield* setupRunner
        .runAndRecord({
          threadId,
          project: plan.project,
          worktreePath: prepared.worktreePath,
          branch: prepared.branch,
          commandId: step("setup"),
          actor
        })
        .pipe(Effect.mapError(failAt("setup")))
      progress.sequence = Math.max(progress.sequence, outcome.sequence)
      progress.setup = outcome.status
      const passed = outcome.status === "succeeded" || outcome.status === "no-script"
      // The branch moved between the plan and the run: the run refused a script the plan did not see.
      if (outcome.status === "unapproved" && !progress.warnings.some((w) => w.includes("--approve-setup"))) {
        progress.warnings.push(
          `Setup not run: the committed setup script changed since it was approved. Review it, then run '${approveSetupCommand(plan.project.id)}' and 'spindle setup rerun ${threadId}'.`
        )
      }
      if (!passed && plan.onSetupFailure === "continue") {
        progress.warnings.push(
          `Setup ${outcome.status}; the first turn was started anyway (onSetupFailure: continue).`
        )
      }
      return passed || plan.onSetupFailure === "continue"
    })

    /** Step 5: the first turn, or none when setup failed and the caller said stop. */
    const finish = Effect.fn("Bootstrap.requestTurn")(function* (
      plan: BootstrapPlan,
      startedAt: number,
      turn: boolean
    ) {
      progress.stage = "turn"
      if (turn) {
        yield* record({ stage: "requesting-turn" })
        yield* send("turn", {
          type: "thread.turn.request",
          commandId: step("turn"),
          threadId,
          turnId: plan.turnId,
          prompt: plan.prompt,
          ...(progress.attachments.length === 0 ? {} : { attachments: progress.attachments })
        })
        yield* crash.reach("turn-requested")
      }
      yield* send(turn ? "turn" : "setup", {
        type: "thread.bootstrap.complete",
        commandId: step("complete"),
        threadId
      })
      const final = yield* answer(plan, startedAt, turn ? "requested" : "not-started")
      yield* record({ stage: "done", result: final })
      return final
    })

    return Effect.gen(function* () {
      const startedAt = yield* Clock.currentTimeMillis
      const plan = yield* validate()
      progress.setup = plan.runSetupScript ? "pending" : "not-requested"
      progress.warnings.push(...plan.warnings)
      if (yield* createThread(plan)) {
        return yield* queuedAnswer(engine, threadId, {
          sequence: progress.sequence,
          warnings: progress.warnings,
          durationMs: (yield* Clock.currentTimeMillis) - startedAt
        }).pipe(Effect.mapError(failAt("create-thread")))
      }
      // The thread exists: whatever waited behind this bootstrap at startup may go on.
      yield* gate.admitted
      // Before setup, which gets them as SPINDLE_PORT and SPINDLE_PORT_COUNT.
      const assigned = yield* ports.assign(threadId, actor)
      if (assigned.warning !== undefined) progress.warnings.push(assigned.warning)
      const prepared = yield* prepare(plan, startedAt)
      if (plan.runSetupScript) {
        yield* Deferred.succeed(flight.workspace, yield* answer(plan, startedAt, "waiting-for-setup"))
      }
      const turn = yield* setup(plan, prepared)
      return yield* finish(plan, startedAt, turn)
    })
  }
}

/** A queued thread's answer, from the model as it is now (its place moves as the queue does). */
export const queuedAnswer = (
  engine: Engine["Service"],
  threadId: ThreadId,
  run: {
    readonly sequence?: number
    readonly warnings?: ReadonlyArray<string>
    readonly durationMs?: number
  } = {}
): Effect.Effect<QueuedBootstrapResult, SpindleError> =>
  Effect.gen(function* () {
    const model = yield* engine.readModel
    const thread = yield* engine.getThread(threadId)
    const message = thread === undefined ? undefined : queueMessage(model, thread)
    if (thread === undefined || thread.queue === null || message === undefined) {
      return yield* new SpindleError({
        reason: "conflict",
        threadId,
        message: `Thread ${threadId} was queued, and is no longer (${thread === undefined ? "it is gone" : `it is ${thread.status}`}). See 'spindle thread show ${threadId}'.`
      })
    }
    return {
      threadId,
      projectId: thread.projectId,
      parentThreadId: thread.parentThreadId,
      sequence: run.sequence ?? model.sequence,
      mode: thread.workspace.mode,
      branch: null,
      worktreePath: null,
      baseBranch: null,
      setup: { status: "not-requested" },
      turn: { status: "queued" },
      warnings: [...(run.warnings ?? [])],
      durationMs: run.durationMs ?? 0,
      queue: { position: thread.queue.position, waitsFor: thread.queue.waitsFor, message }
    } satisfies QueuedBootstrapResult
  })

export const newProgress = (): Progress => ({
  stage: "validate",
  attachments: [],
  sequence: 0,
  setup: "not-requested",
  workspace: { branch: null, worktreePath: "", baseBranch: null },
  warnings: []
})

/** A defect anywhere in a run, as the error it answers. */
export const unexpected = (error: unknown) =>
  error instanceof SpindleError
    ? error
    : new SpindleError({ reason: "internal", message: `Bootstrap failed unexpectedly: ${String(error)}` })

// Runs a thread's setup script and records it on the thread (setup-started, setup-completed):
// used by the bootstrap and by `thread.setup.rerun`. Which script runs is setupSource.ts' rule;
// running the process is SetupScripts' job; deciding what a failed setup means for the first turn
// is the caller's. A finish that cannot be recorded (the database failing) is retried, then kept
// trying in the background, and a `running` status with no live run behind it is settled as
// `interrupted` by the next rerun, so no thread shows a setup running that has no process.
import type {
  Actor,
  Command,
  CommandId,
  DispatchResult,
  Project,
  SetupStatus,
  Thread,
  ThreadId
} from "@spindle/contracts"
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { Repositories } from "../git/Repositories.ts"
import { untilStored } from "../persistence/storageFull.ts"
import { SetupScripts } from "../setup/SetupScripts.ts"
import type { SetupResult } from "../setup/setupModel.ts"
import { resolveSetupScript } from "../setup/setupSource.ts"
import { stepCommandId } from "./bootstrapSteps.ts"

/** A write the database refused (`internal`) is tried this many more times, 50 ms apart and doubling. */
export const RECORD_RETRIES = 4
const RECORD_BACKOFF = Schedule.exponential("50 millis")
/** After that, a finish is still tried in the background once a second for ten minutes. */
const SETTLE_EVERY = Schedule.spaced("1 second")
const SETTLE_TRIES = 600

export interface SetupRun {
  readonly threadId: ThreadId
  readonly project: Project
  readonly worktreePath: string
  readonly branch: string | null
  /** Derives the commandIds of the recorded events, so a replay records nothing twice. */
  readonly commandId: CommandId
  readonly actor: Actor
}

/** A run that never got to run its script: recorded as failed (or unapproved), with the reason as its output. */
const notRun = (
  run: number,
  message: string,
  status: "failed" | "unapproved" = "failed"
): Omit<SetupResult, "status"> & { readonly status: SetupStatus } => ({
  status,
  exitCode: null,
  signal: null,
  durationMs: 0,
  logTail: `${message}\n`,
  logPath: null,
  run
})

export class SetupRunner extends Context.Service<
  SetupRunner,
  {
    /** Records the start, runs the script to its end, records the outcome. */
    readonly runAndRecord: (
      run: SetupRun
    ) => Effect.Effect<{ readonly status: SetupStatus; readonly sequence: number }, SpindleError>
    /**
     * `thread.setup.rerun`: answers once the run is recorded as started; the run goes on in the
     * background, and `whenPassed` runs after it if it succeeded.
     */
    readonly rerun: (
      threadId: ThreadId,
      commandId: CommandId,
      actor: Actor,
      whenPassed?: Effect.Effect<void, SpindleError>
    ) => Effect.Effect<DispatchResult, SpindleError>
  }
>()("spindle/bootstrap/SetupRunner") {
  static readonly layer = Layer.effect(
    SetupRunner,
    Effect.gen(function* () {
      const engine = yield* Engine
      const setupScripts = yield* SetupScripts
      const repositories = yield* Repositories
      const scope: Scope.Scope = yield* Effect.scope
      // Runs this server owns, from before their start is recorded until their finish is (or is
      // given up): with SetupScripts' own view, what tells a live run from a stale `running`.
      const owned = new Map<ThreadId, number>()
      const claim = (threadId: ThreadId) =>
        Effect.sync(() => {
          owned.set(threadId, (owned.get(threadId) ?? 0) + 1)
        })
      const release = (threadId: ThreadId) =>
        Effect.sync(() => {
          const left = (owned.get(threadId) ?? 1) - 1
          if (left > 0) owned.set(threadId, left)
          else owned.delete(threadId)
        })
      const isLive = (threadId: ThreadId) =>
        Effect.map(setupScripts.isRunning(threadId), (running) => running || owned.has(threadId))

      /** Same commandId each time, so a write that did land is answered from its receipt. */
      const record = (command: Command, actor: Actor) =>
        engine.dispatch(command, actor).pipe(
          Effect.retry({
            schedule: RECORD_BACKOFF,
            times: RECORD_RETRIES,
            while: (error) => error.reason === "internal"
          })
        )

      /**
       * Records the next run's start. `perCommand`: one start per commandId at most (reruns), so a
       * retried rerun finds its earlier start instead of beginning another run.
       */
      const start = Effect.fn("SetupRunner.start")(function* (run: SetupRun, perCommand = false) {
        const thread = yield* engine.getThread(run.threadId)
        const number = (thread?.setup.runs ?? 0) + 1
        const started = yield* engine
          .dispatch(
            {
              type: "thread.setup.start",
              commandId: stepCommandId(run.commandId, perCommand ? "start" : `start-${number}`),
              threadId: run.threadId,
              run: number,
              logPath: setupScripts.logPath(run.threadId, number)
            },
            run.actor
          )
          // A bootstrap's run waits out a full store; a person's rerun is refused at once.
          .pipe(perCommand ? (effect) => effect : untilStored(`${run.threadId}'s setup start`))
        return { number, sequence: started.sequence }
      })

      const execute = (run: SetupRun, number: number) =>
        Effect.gen(function* () {
          const source = yield* resolveSetupScript(repositories, run.project)
          if (source._tag === "refused") return notRun(number, source.message)
          if (source._tag === "unapproved") {
            yield* Effect.logWarning(`${run.threadId}: ${source.message}`)
            return notRun(number, source.message, "unapproved")
          }
          const thread = yield* engine.getThread(run.threadId)
          return yield* setupScripts.run({
            threadId: run.threadId,
            projectRoot: run.project.workspaceRoot,
            worktreePath: run.worktreePath,
            branch: run.branch,
            script: source._tag === "none" ? null : source.script,
            setupEnv: run.project.setupEnv,
            ports: thread?.ports ?? null,
            timeoutSeconds: run.project.setupTimeoutSeconds,
            run: number
          })
        }).pipe(
          // The script could not even start: record that as a failed run the user can retry.
          Effect.catch((error) => Effect.succeed(notRun(number, error.message)))
        )

      /**
       * Once the database takes writes again, the real outcome lands. A rerun may settle the run
       * first (as interrupted); this then gets a conflict and stops.
       */
      const keepTrying = (command: Command, actor: Actor) =>
        Effect.forkIn(
          engine.dispatch(command, actor).pipe(
            Effect.retry({
              schedule: SETTLE_EVERY,
              times: SETTLE_TRIES,
              while: (error) => error.reason === "internal"
            }),
            Effect.catch((error) =>
              Effect.logWarning(`Could not record the end of a setup run: ${error.message}`)
            )
          ),
          scope
        )

      const finish = (run: SetupRun, number: number) =>
        Effect.gen(function* () {
          const result = yield* execute(run, number)
          const command: Command = {
            type: "thread.setup.finish",
            commandId: stepCommandId(run.commandId, `finish-${number}`),
            threadId: run.threadId,
            run: number,
            status: result.status,
            exitCode: result.exitCode,
            signal: result.signal,
            durationMs: result.durationMs,
            logTail: result.logTail
          }
          const finished = yield* record(command, run.actor).pipe(
            untilStored(`${run.threadId}'s setup outcome`),
            Effect.tapError((error) =>
              error.reason === "internal" ? keepTrying(command, run.actor) : Effect.void
            )
          )
          return { status: result.status, sequence: finished.sequence }
        })

      const runAndRecord = Effect.fn("SetupRunner.runAndRecord")(function* (run: SetupRun) {
        return yield* Effect.acquireUseRelease(
          claim(run.threadId),
          () => Effect.flatMap(start(run), ({ number }) => finish(run, number)),
          () => release(run.threadId)
        )
      })

      /** A `running` run no process stands behind (its finish was never recorded): it is over. */
      const settleStale = (thread: Thread, commandId: CommandId, actor: Actor) =>
        record(
          {
            type: "thread.setup.finish",
            commandId: stepCommandId(commandId, `interrupted-${thread.setup.runs}`),
            threadId: thread.id,
            run: thread.setup.runs,
            status: "interrupted",
            exitCode: null,
            signal: null,
            durationMs: null,
            logTail: `${thread.setup.logTail}[setup interrupted: its outcome could not be recorded; this rerun replaces it]\n`
          },
          actor
        ).pipe(
          Effect.tap(() =>
            Effect.logWarning(
              `Setup run ${thread.setup.runs} of ${thread.id} had no process; recorded it interrupted`
            )
          ),
          // A conflict: another rerun settled it first, or it has moved on. Either way it is not ours to end.
          Effect.catchIf(
            (error) => error.reason === "conflict",
            () => Effect.void
          )
        )

      const rerun = Effect.fn("SetupRunner.rerun")(function* (
        threadId: ThreadId,
        commandId: CommandId,
        actor: Actor,
        whenPassed: Effect.Effect<void, SpindleError> = Effect.void
      ) {
        const thread = yield* engine.getThread(threadId)
        const project = thread === undefined ? undefined : yield* engine.getProject(thread.projectId)
        if (thread === undefined || project === undefined) {
          return yield* threadNotFound(threadId)
        }
        if (
          thread.status !== "active" ||
          thread.bootstrap.status === "running" ||
          thread.workspace.worktreePath === null
        ) {
          return yield* new SpindleError({
            reason: "conflict",
            threadId,
            message:
              thread.bootstrap.status === "running"
                ? `Thread ${threadId} is still being bootstrapped; its setup runs as part of that.`
                : `Thread ${threadId} has no workspace to run setup in (status ${thread.status}, bootstrap ${thread.bootstrap.status}).`
          })
        }
        if (thread.setup.status === "running") {
          // A run in progress: join it rather than start a second one.
          if (yield* isLive(threadId)) return { sequence: (yield* engine.readModel).sequence }
          yield* settleStale(thread, commandId, actor)
        }
        const run: SetupRun = {
          threadId,
          project,
          worktreePath: thread.workspace.worktreePath,
          branch: thread.workspace.branch,
          commandId,
          actor
        }
        // Claiming, recording the start and forking the run happen together, so no interruption
        // leaves a recorded start that nothing will finish.
        return yield* Effect.uninterruptible(
          Effect.gen(function* () {
            yield* claim(threadId)
            // A conflict here means this rerun already started (a retry), or another just did: join it.
            const started = yield* start(run, true).pipe(
              Effect.catchIf(
                (error) => error.reason === "conflict",
                () => Effect.succeed(undefined)
              ),
              Effect.tapError(() => release(threadId))
            )
            if (started === undefined) {
              yield* release(threadId)
              return { sequence: (yield* engine.readModel).sequence }
            }
            yield* Effect.forkIn(
              finish(run, started.number).pipe(
                Effect.ensuring(release(threadId)),
                Effect.flatMap(({ status }) => (status === "succeeded" ? whenPassed : Effect.void)),
                Effect.catch((error) => Effect.logWarning(`Setup rerun of ${threadId}: ${error.message}`))
              ),
              scope
            )
            return { sequence: started.sequence }
          })
        )
      })

      return { runAndRecord, rerun }
    })
  )
}

// Runs a thread's setup script and records it on the thread (setup-started, setup-completed):
// used by the bootstrap and by `thread.setup.rerun`. Running the process is SetupScripts' job;
// deciding what a failed setup means for the first turn is the caller's.
import type { Actor, CommandId, DispatchResult, Project, SetupStatus, ThreadId } from "@spindle/contracts"
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { SetupScripts } from "../setup/SetupScripts.ts"
import type { SetupResult } from "../setup/setupModel.ts"
import { stepCommandId } from "./bootstrapSteps.ts"
import { Engine } from "./Engine.ts"
import { threadNotFound } from "./notFound.ts"

export interface SetupRun {
  readonly threadId: ThreadId
  readonly project: Project
  readonly worktreePath: string
  readonly branch: string | null
  /** Derives the commandIds of the recorded events, so a replay records nothing twice. */
  readonly commandId: CommandId
  readonly actor: Actor
}

export class SetupRunner extends Context.Service<
  SetupRunner,
  {
    /** Records the start, runs the script to its end, records the outcome. */
    readonly runAndRecord: (
      run: SetupRun
    ) => Effect.Effect<{ readonly status: SetupStatus; readonly sequence: number }, SpindleError>
    /** `thread.setup.rerun`: answers once the run is recorded as started; the run goes on in the background. */
    readonly rerun: (
      threadId: ThreadId,
      commandId: CommandId,
      actor: Actor
    ) => Effect.Effect<DispatchResult, SpindleError>
  }
>()("spindle/orchestration/SetupRunner") {
  static readonly layer = Layer.effect(
    SetupRunner,
    Effect.gen(function* () {
      const engine = yield* Engine
      const setupScripts = yield* SetupScripts
      const scope: Scope.Scope = yield* Effect.scope

      /**
       * Records the next run's start. `perCommand`: one start per commandId at most (reruns), so a
       * retried rerun finds its earlier start instead of beginning another run.
       */
      const start = Effect.fn("SetupRunner.start")(function* (run: SetupRun, perCommand = false) {
        const thread = yield* engine.getThread(run.threadId)
        const number = (thread?.setup.runs ?? 0) + 1
        const started = yield* engine.dispatch(
          {
            type: "thread.setup.start",
            commandId: stepCommandId(run.commandId, perCommand ? "start" : `start-${number}`),
            threadId: run.threadId,
            run: number,
            logPath: setupScripts.logPath(run.threadId, number)
          },
          run.actor
        )
        return { number, sequence: started.sequence }
      })

      const finish = (run: SetupRun, number: number) =>
        Effect.gen(function* () {
          const result: SetupResult = yield* setupScripts
            .run({
              threadId: run.threadId,
              projectRoot: run.project.workspaceRoot,
              worktreePath: run.worktreePath,
              branch: run.branch,
              script: run.project.setupScript,
              timeoutSeconds: run.project.setupTimeoutSeconds,
              run: number
            })
            .pipe(
              // The script could not even start: record that as a failed run the user can retry.
              Effect.catch((error) =>
                Effect.succeed({
                  status: "failed",
                  exitCode: null,
                  signal: null,
                  durationMs: 0,
                  logTail: `${error.message}\n`,
                  logPath: null,
                  run: number
                } satisfies SetupResult)
              )
            )
          const finished = yield* engine.dispatch(
            {
              type: "thread.setup.finish",
              commandId: stepCommandId(run.commandId, `finish-${number}`),
              threadId: run.threadId,
              run: number,
              status: result.status,
              exitCode: result.exitCode,
              signal: result.signal,
              durationMs: result.durationMs,
              logTail: result.logTail
            },
            run.actor
          )
          return { status: result.status as SetupStatus, sequence: finished.sequence }
        })

      const runAndRecord = Effect.fn("SetupRunner.runAndRecord")(function* (run: SetupRun) {
        const { number } = yield* start(run)
        return yield* finish(run, number)
      })

      const rerun = Effect.fn("SetupRunner.rerun")(function* (
        threadId: ThreadId,
        commandId: CommandId,
        actor: Actor
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
        // A run already in progress: join it rather than start a second one.
        if (thread.setup.status === "running") return { sequence: (yield* engine.readModel).sequence }
        const run: SetupRun = {
          threadId,
          project,
          worktreePath: thread.workspace.worktreePath,
          branch: thread.workspace.branch,
          commandId,
          actor
        }
        // A conflict here means this rerun already started (a retry), or another just did: join it.
        const started = yield* start(run, true).pipe(
          Effect.catchIf(
            (error) => error.reason === "conflict",
            () => Effect.succeed(undefined)
          )
        )
        if (started === undefined) return { sequence: (yield* engine.readModel).sequence }
        const { number, sequence } = started
        yield* Effect.forkIn(
          finish(run, number).pipe(
            Effect.catch((error) => Effect.logWarning(`Setup rerun of ${threadId}: ${error.message}`))
          ),
          scope
        )
        return { sequence }
      })

      return { runAndRecord, rerun }
    })
  )
}

// An attempt's check command, run in each variant's worktree once its turn completes (completed
// only: a failed or interrupted turn has nothing to judge), with exactly the environment a setup
// script gets (setupEnvironment.ts: the allowlist, the project's setupEnv, Spindle's variables) and
// the project's setup timeout. Each run is its own background fiber, so a slow check never holds
// up the server; its result (exit code, duration, output's end, or why it could not run) is
// recorded on the variant as thread.check-completed, once per turn. At startup, variants whose
// completed turn has no check result yet are checked again. It does not decide who may name a check
// (bootstrapPlan.ts refuses an agent's).
import {
  type CommandId,
  MAX_CHECK_OUTPUT,
  type SpindleEvent,
  type Thread,
  type ThreadCheck,
  type ThreadId
} from "@spindle/contracts"
import { hashId } from "@spindle/shared/hashId"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"
import { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import { followLog } from "../engine/followLog.ts"
import { setupEnvironment } from "../setup/setupEnvironment.ts"

/** A variant whose latest turn completed and whose check has not been recorded for it. */
const needsCheck = (thread: Thread) =>
  thread.attempt?.check != null &&
  thread.latestTurn?.status === "completed" &&
  thread.check?.turnId !== thread.latestTurn.turnId

export class CheckRunner extends Context.Service<
  CheckRunner,
  {
    /** Follows the log (and looks at variants left unchecked before a restart). */
    readonly start: Effect.Effect<void>
  }
>()("spindle/children/CheckRunner") {
  static readonly layer = Layer.effect(
    CheckRunner,
    Effect.gen(function* () {
      const engine = yield* Engine
      const spawner = yield* ChildProcessSpawner
      const fibers = yield* FiberSet.make()
      const running = new Set<string>()

      /** Runs the command; answers the check as it is recorded. */
      const runCheck = (thread: Thread, command: string, turnId: ThreadCheck["turnId"]) =>
        Effect.gen(function* () {
          const startedAt = yield* Clock.currentTimeMillis
          const project = yield* engine.getProject(thread.projectId)
          const done = (
            status: ThreadCheck["status"],
            exitCode: number | null,
            outputTail: string,
            error: string | null
          ) =>
            Effect.map(
              Clock.currentTimeMillis,
              (now): ThreadCheck => ({
                turnId,
                command,
                status,
                exitCode,
                durationMs: now - startedAt,
                outputTail: outputTail.slice(-MAX_CHECK_OUTPUT),
                error,
                at: new Date(now).toISOString()
              })
            )
          const worktree = thread.workspace.worktreePath
          if (project === undefined || worktree === null || thread.cleanup?.outcome === "removed") {
            return yield* done(
              "error",
              null,
              "",
              "The variant has no worktree to run the check in (it was removed)."
            )
          }
          const timeoutSeconds = project.setupTimeoutSeconds
          const env = setupEnvironment(
            {
              threadId: thread.id,
              projectRoot: project.workspaceRoot,
              worktreePath: worktree,
              branch: thread.workspace.branch,
              script: null,
              setupEnv: project.setupEnv,
              ports: thread.ports,
              timeoutSeconds
            },
            process.env
          )
          let tail = ""
          const keep = (text: string) =>
            Effect.sync(() => {
              tail = (tail + text).slice(-MAX_CHECK_OUTPUT * 2)
            })
          return yield* Effect.scoped(
            Effect.gen(function* () {
              const handle = yield* spawner.spawn(
                ChildProcess.make("/bin/sh", ["-c", command], {
                  cwd: worktree,
                  // Only the setup environment: the server's own secrets never reach the check.
                  env,
                  extendEnv: false,
                  stdin: "ignore",
                  killSignal: "SIGTERM",
                  forceKillAfter: Duration.seconds(5)
                })
              )
              const pump = Effect.forkScoped(
                Stream.merge(handle.stdout, handle.stderr).pipe(
                  Stream.decodeText,
                  Stream.runForEach(keep),
                  Effect.ignore
                )
              )
              const reading = yield* pump
              const exit = yield* Effect.timeoutOption(handle.exitCode, Duration.seconds(timeoutSeconds))
              if (exit._tag === "None") {
                yield* Effect.ignore(
                  handle.kill({ killSignal: "SIGTERM", forceKillAfter: Duration.seconds(5) })
                )
                return yield* done(
                  "timed-out",
                  null,
                  tail,
                  `The check did not end within the project's setup timeout (${timeoutSeconds} s) and was stopped.`
                )
              }
              yield* Effect.ignore(Effect.timeoutOption(Fiber.await(reading), Duration.seconds(5)))
              const code = exit.value
              return yield* done(code === 0 ? "passed" : "failed", code, tail, null)
            })
          ).pipe(
            Effect.catch((error) =>
              done("error", null, tail, `The check could not run in ${worktree}: ${error.message}`)
            )
          )
        })

      const check = (threadId: ThreadId) =>
        Effect.gen(function* () {
          const thread = yield* engine.getThread(threadId)
          if (thread === undefined || !needsCheck(thread)) return
          const turnId = thread.latestTurn?.turnId
          const command = thread.attempt?.check
          if (turnId === undefined || command == null) return
          const key = `${threadId}/${turnId}`
          if (running.has(key)) return
          running.add(key)
          yield* FiberSet.run(
            fibers,
            runCheck(thread, command, turnId).pipe(
              Effect.flatMap((result) =>
                engine.dispatch(
                  {
                    type: "thread.check.record",
                    commandId: hashId("check-", threadId, turnId) as CommandId,
                    threadId,
                    check: result
                  },
                  { kind: "server" }
                )
              ),
              Effect.ignore({ log: "Warn", message: "Could not record an attempt's check" }),
              Effect.ensuring(Effect.sync(() => running.delete(key)))
            )
          )
        })

      const consider = (event: SpindleEvent) =>
        event.type === "thread.turn-ended" && event.payload.status === "completed"
          ? check(event.payload.threadId)
          : Effect.void

      const start = Effect.gen(function* () {
        const model = yield* engine.readModel
        for (const thread of HashMap.values(model.threads)) {
          if (engine.owns(thread) && needsCheck(thread)) yield* check(thread.id)
        }
        yield* FiberSet.run(
          fibers,
          followLog(engine, model.sequence, consider, "Checks", ofTypes("thread.turn-ended"))
        )
      })

      return { start }
    })
  )
}

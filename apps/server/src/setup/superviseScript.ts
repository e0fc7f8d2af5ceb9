// Runs one setup script to its end: spawned in its own process group, output pumped into the
// capped log, stopped by timeout or request, summed up as a result. It knows nothing of threads
// joining a run or of subscribers; the caller passes `publish` and the lock that orders output.
import { SpindleError, type ThreadId } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type { PlatformError } from "effect/PlatformError"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { LineSplitter } from "./lineSplitter.ts"
import { recordGroup } from "./orphanedGroup.ts"
import type { OutputLog } from "./outputLog.ts"
import { setupEnvironment } from "./setupEnvironment.ts"
import type { OutputStream, SetupRequest, SetupResult, SetupRunStatus } from "./setupModel.ts"

/** Once the group is dead its pipes reach EOF at once; only a process that left the group can hold them. */
const DRAIN_AFTER_KILL = Duration.seconds(5)

export interface Supervisor {
  readonly spawner: ChildProcessSpawner["Service"]
  readonly fs: FileSystem.FileSystem
  /** Between SIGTERM and SIGKILL. */
  readonly killGrace: Duration.Duration
}

export interface SupervisedRun {
  readonly request: SetupRequest
  readonly run: number
  /** A private copy of the script's text, passed to /bin/sh as a file. */
  readonly scriptPath: string
  readonly logPath: string
  readonly log: OutputLog
  /** Completed to stop the script early; the result is then `cancelled`. */
  readonly stop: Deferred.Deferred<void>
  /** Held while a batch is appended to the file and published, so readers see a consistent cut. */
  readonly withLock: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly publish: (stream: OutputStream, lines: ReadonlyArray<string>) => Effect.Effect<void>
}

export const setupError = (threadId: ThreadId, message: string, path?: string) =>
  new SpindleError({ reason: "setup", message, threadId, ...(path === undefined ? {} : { path }) })

/** Node reports a signal death only in the message of the `exitCode` failure's cause. */
const signalOf = (error: PlatformError): string | null => {
  const cause = error.reason.cause
  const message = cause instanceof Error ? cause.message : ""
  return /signal: '(\w+)'/.exec(message)?.[1] ?? null
}

type Outcome =
  | { readonly _tag: "exited"; readonly exit: Result.Result<number, PlatformError> }
  | { readonly _tag: "timed-out" }
  | { readonly _tag: "cancelled" }

/** Runs the script; the caller's scope owns the process group and the log file. */
export const superviseScript = Effect.fnUntraced(function* (
  supervisor: Supervisor,
  run: SupervisedRun
): Effect.fn.Return<SetupResult, SpindleError, Scope.Scope> {
  const { request } = run
  const startedAt = yield* Clock.currentTimeMillis
  const result = (status: SetupRunStatus, exitCode: number | null, signal: string | null) =>
    Effect.map(Clock.currentTimeMillis, (now) => ({
      status,
      exitCode,
      signal,
      durationMs: now - startedAt,
      logTail: run.log.tail,
      logPath: run.logPath,
      run: run.run
    }))

  const file = yield* supervisor.fs
    .open(run.logPath, { flag: "w" })
    .pipe(
      Effect.mapError((error) =>
        setupError(
          request.threadId,
          `Could not create the setup log ${run.logPath}: ${error.message}. Check that the Spindle home is writable.`,
          run.logPath
        )
      )
    )
  if (yield* Deferred.isDone(run.stop)) return yield* result("cancelled", null, null)

  const handle = yield* supervisor.spawner
    .spawn(
      ChildProcess.make("/bin/sh", [run.scriptPath], {
        cwd: request.worktreePath,
        // Only this environment: never extendEnv, so the server's own secrets stay with it.
        env: setupEnvironment(request, process.env),
        extendEnv: false,
        stdin: "ignore",
        killSignal: "SIGTERM",
        forceKillAfter: supervisor.killGrace
      })
    )
    .pipe(
      Effect.mapError((error) =>
        setupError(
          request.threadId,
          `Could not start the setup script in ${request.worktreePath}: ${error.message}. Check that the worktree exists and /bin/sh is available.`,
          request.worktreePath
        )
      )
    )

  // While the group runs, its id sits next to the log, for recovery after a crash of the server.
  yield* recordGroup(run.logPath, handle.pid)

  let writable = true
  const append = (stream: OutputStream, lines: ReadonlyArray<string>) =>
    lines.length === 0
      ? Effect.void
      : run.withLock(
          Effect.gen(function* () {
            const bytes = run.log.append(lines)
            if (bytes.length > 0 && writable) {
              yield* file.writeAll(bytes).pipe(
                Effect.catch((error) => {
                  // A full disk should not fail the setup, nor warn once per batch.
                  writable = false
                  return Effect.logWarning(`Could not write the setup log ${run.logPath}: ${error.message}`)
                })
              )
            }
            yield* run.publish(stream, lines)
          })
        )

  // Reading never stops before EOF, even past the log cap, so a chatty script never blocks on a full pipe.
  const pump = (source: Stream.Stream<Uint8Array, PlatformError>, stream: OutputStream) => {
    const splitter = new LineSplitter()
    return source.pipe(
      Stream.decodeText,
      Stream.runForEachArray((texts) => append(stream, splitter.push(texts.join("")))),
      Effect.andThen(Effect.suspend(() => append(stream, splitter.flush()))),
      Effect.catch((error) => Effect.logWarning(`Could not read setup ${stream}: ${error.message}`))
    )
  }
  const pumps = yield* Effect.forkScoped(
    Effect.all([pump(handle.stdout, "stdout"), pump(handle.stderr, "stderr")], {
      concurrency: "unbounded",
      discard: true
    })
  )

  const outcome = yield* Effect.raceAll<Effect.Effect<Outcome>>([
    Effect.map(Effect.result(handle.exitCode), (exit): Outcome => ({ _tag: "exited", exit })),
    Effect.as(Effect.sleep(Duration.seconds(request.timeoutSeconds)), { _tag: "timed-out" } as const),
    Effect.as(Deferred.await(run.stop), { _tag: "cancelled" } as const)
  ])
  // `kill` signals the whole group and returns once the group is gone (SIGKILL after the grace).
  const killGroup = Effect.ignore(
    handle.kill({ killSignal: "SIGTERM", forceKillAfter: supervisor.killGrace })
  )
  if (outcome._tag !== "exited") yield* killGroup
  const exit = outcome._tag === "exited" ? outcome.exit : yield* Effect.result(handle.exitCode)

  // Background children may still hold the pipes after the script exits: they get the grace, then the group ends.
  const drainedWithin = (duration: Duration.Duration) =>
    Effect.map(Effect.timeoutOption(Fiber.await(pumps), duration), Option.isSome)
  if (!(yield* drainedWithin(supervisor.killGrace))) {
    yield* killGroup
    if (!(yield* drainedWithin(DRAIN_AFTER_KILL))) yield* Fiber.interrupt(pumps)
  }

  const exitCode = Result.isSuccess(exit) ? exit.success : null
  const signal = Result.isFailure(exit) ? signalOf(exit.failure) : null
  const status: SetupRunStatus =
    outcome._tag !== "exited" ? outcome._tag : exitCode === 0 ? "succeeded" : "failed"
  return yield* result(status, exitCode, signal)
})

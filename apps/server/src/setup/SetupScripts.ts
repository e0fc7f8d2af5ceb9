// Owns setup runs per thread: running the script text it is given (never a file it finds in the
// worktree), joining a second request to the running one, cancelling, and fanning out live lines.
// How one script is supervised lives in superviseScript.ts; which script a project runs lives in
// setupSource.ts; what the thread records about a run (events, status) is the caller's business.
import { dirname, join } from "node:path"
import { SpindleError, type ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { ServerConfig } from "../config/ServerConfig.ts"
import { endOrphanedGroup } from "./orphanedGroup.ts"
import { DEFAULT_MAX_LOG_BYTES, OutputLog } from "./outputLog.ts"
import type { SetupFollow, SetupLine, SetupRequest, SetupResult } from "./setupModel.ts"
import { setupError, superviseScript } from "./superviseScript.ts"
import { liveLines, makeThreadTopics, type Running, type Topic } from "./threadTopics.ts"

export interface SetupScriptsOptions {
  /** Logs go to `<logsDir>/<threadId>/setup-<run>.log`. */
  readonly logsDir: string
  /** The cap on one run's log file; output past it is still read and kept in the tail. */
  readonly maxLogBytes?: number
  /** Between SIGTERM and SIGKILL when a run is stopped. */
  readonly killGrace?: Duration.Input
}

export class SetupScripts extends Context.Service<
  SetupScripts,
  {
    /** Runs the thread's setup script, or joins the run already in progress for the thread. */
    readonly run: (request: SetupRequest) => Effect.Effect<SetupResult, SpindleError>
    /** Whether a run of the thread is in progress in this server (joined, not yet ended). */
    readonly isRunning: (threadId: ThreadId) => Effect.Effect<boolean>
    /** Stops the thread's run (its whole process group); false when none was running. */
    readonly cancel: (threadId: ThreadId) => Effect.Effect<boolean>
    /** Live lines of the current run, or of the next one if none is running; ends with that run. */
    readonly lines: (threadId: ThreadId) => Stream.Stream<SetupLine>
    /** The current run's log so far plus every later line, with no gap or overlap; `lines` lives in the scope. */
    readonly follow: (threadId: ThreadId) => Effect.Effect<SetupFollow, SpindleError, Scope.Scope>
    /** The log file of a run, as far as it is written. */
    readonly readLog: (threadId: ThreadId, run: number) => Effect.Effect<string, SpindleError>
    readonly logPath: (threadId: ThreadId, run: number) => string
    /** After a crash: ends the run's process group if it outlived the server. True if it did. */
    readonly endOrphan: (threadId: ThreadId, run: number) => Effect.Effect<boolean>
  }
>()("spindle/setup/SetupScripts") {
  static readonly layerWith = (options: SetupScriptsOptions) =>
    Layer.effect(
      SetupScripts,
      Effect.gen(function* () {
        const spawner = yield* ChildProcessSpawner
        const fs = yield* FileSystem.FileSystem
        // Runs belong to the service, not to their first caller: shutting down stops them all.
        const scope = yield* Effect.scope
        const supervisor = {
          spawner,
          fs,
          killGrace: Duration.fromInputUnsafe(options.killGrace ?? "3 seconds")
        }
        const maxLogBytes = options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES
        const topics = makeThreadTopics()
        const lastRun = new Map<ThreadId, number>()

        const logPath = (threadId: ThreadId, run: number) =>
          join(options.logsDir, threadId, `setup-${run}.log`)

        // Numbers continue across restarts from the log files already on disk.
        const nextRun = (threadId: ThreadId) =>
          fs.readDirectory(join(options.logsDir, threadId)).pipe(
            Effect.orElseSucceed(() => []),
            Effect.map((names) => {
              const onDisk = names.map((name) => Number(/^setup-(\d+)\.log$/.exec(name)?.[1] ?? 0))
              return Math.max(lastRun.get(threadId) ?? 0, ...onDisk) + 1
            })
          )

        const execute = (topic: Topic, running: Running, request: SetupRequest) =>
          Effect.gen(function* () {
            const run = request.run ?? (yield* nextRun(request.threadId))
            running.run = run
            lastRun.set(request.threadId, Math.max(lastRun.get(request.threadId) ?? 0, run))
            const script = request.script?.trim() ? request.script : undefined
            if (script === undefined) {
              return {
                status: "no-script",
                exitCode: null,
                signal: null,
                durationMs: 0,
                logTail: "",
                logPath: null,
                run
              } satisfies SetupResult
            }
            const path = logPath(request.threadId, run)
            yield* fs
              .makeDirectory(dirname(path), { recursive: true })
              .pipe(
                Effect.mapError((error) =>
                  setupError(
                    request.threadId,
                    `Could not create the setup log directory ${dirname(path)}: ${error.message}. Check that the Spindle home is writable.`,
                    dirname(path)
                  )
                )
              )
            // The text runs from our own copy, so nothing in the worktree can change what runs.
            const scriptPath = path.replace(/\.log$/, ".sh")
            yield* fs.writeFileString(scriptPath, script, { mode: 0o700 }).pipe(
              Effect.andThen(fs.chmod(scriptPath, 0o700)),
              Effect.mapError((error) =>
                setupError(
                  request.threadId,
                  `Could not write the setup script ${scriptPath}: ${error.message}. Check that the Spindle home is writable.`,
                  scriptPath
                )
              )
            )
            const log = new OutputLog(maxLogBytes)
            yield* topic.lock.withPermit(
              Effect.sync(() => {
                running.started = { run, logPath: path, log }
              })
            )
            return yield* Effect.scoped(
              superviseScript(supervisor, {
                request,
                run,
                scriptPath,
                logPath: path,
                log,
                stop: running.stop,
                withLock: (effect) => topic.lock.withPermit(effect),
                publish: (stream, lines) =>
                  Effect.asVoid(PubSub.publish(topic.pubsub, { _tag: "lines", run, stream, lines }))
              })
            )
          })

        const finish = (
          threadId: ThreadId,
          topic: Topic,
          running: Running,
          exit: Exit.Exit<SetupResult, SpindleError>
        ) =>
          topic.lock
            .withPermit(
              Effect.suspend(() => {
                topic.current = undefined
                return PubSub.publish(topic.pubsub, { _tag: "end" })
              })
            )
            .pipe(
              Effect.andThen(topics.close(threadId, topic)),
              Effect.andThen(Deferred.done(running.done, exit))
            )

        // Registering and forking happen together so a joiner never waits on a run nobody started.
        const currentOrStart = (request: SetupRequest) =>
          Effect.uninterruptible(
            Effect.gen(function* () {
              const topic = yield* topics.open(request.threadId)
              if (topic.current !== undefined) {
                yield* topics.close(request.threadId, topic)
                return topic.current
              }
              if (scope.state._tag === "Closed") {
                yield* topics.close(request.threadId, topic)
                return yield* Effect.fail(
                  new SpindleError({
                    reason: "unavailable",
                    message: "The server is shutting down; setup was not started. Retry after it restarts.",
                    threadId: request.threadId
                  })
                )
              }
              const running: Running = {
                run: undefined,
                started: undefined,
                waiters: 0,
                stop: Deferred.makeUnsafe<void>(),
                done: Deferred.makeUnsafe<SetupResult, SpindleError>()
              }
              topic.current = running
              yield* Effect.forkIn(
                Effect.onExit(execute(topic, running, request), (exit) =>
                  finish(request.threadId, topic, running, exit)
                ),
                scope
              )
              return running
            })
          )

        // The last caller to walk away (interrupted) takes the run down with it, and waits until it is gone.
        const awaitRun = (running: Running) =>
          Effect.acquireUseRelease(
            Effect.sync(() => {
              running.waiters++
            }),
            () => Deferred.await(running.done),
            () =>
              Effect.suspend(() => {
                running.waiters--
                if (running.waiters > 0 || Deferred.isDoneUnsafe(running.done)) return Effect.void
                return Deferred.succeed(running.stop, undefined).pipe(
                  Effect.andThen(Deferred.await(running.done)),
                  Effect.ignore
                )
              })
          )

        const run = Effect.fn("SetupScripts.run")(function* (request: SetupRequest) {
          return yield* awaitRun(yield* currentOrStart(request))
        })

        const isRunning = (threadId: ThreadId) => Effect.sync(() => topics.current(threadId) !== undefined)

        const cancel = Effect.fn("SetupScripts.cancel")(function* (threadId: ThreadId) {
          const running = topics.current(threadId)
          if (running === undefined) return false
          yield* Deferred.succeed(running.stop, undefined)
          yield* Effect.ignore(Deferred.await(running.done))
          return true
        })

        const lines = (threadId: ThreadId) =>
          Stream.unwrap(
            Effect.map(
              Effect.flatMap(topics.use(threadId), (topic) => PubSub.subscribe(topic.pubsub)),
              liveLines
            )
          )

        const readLog = Effect.fn("SetupScripts.readLog")(function* (threadId: ThreadId, run: number) {
          const path = logPath(threadId, run)
          return yield* fs.readFileString(path).pipe(
            Effect.mapError((error) =>
              error.reason._tag === "NotFound"
                ? new SpindleError({
                    reason: "not-found",
                    message: `Setup run ${run} of thread ${threadId} has no log. Check the run number.`,
                    threadId,
                    path
                  })
                : setupError(threadId, `Could not read the setup log ${path}: ${error.message}.`, path)
            )
          )
        })

        const follow = Effect.fn("SetupScripts.follow")(function* (threadId: ThreadId) {
          const topic = yield* topics.use(threadId)
          // Subscribing and measuring the file under the lock that appends cuts the output at one point.
          const [subscription, running, started, written] = yield* topic.lock.withPermit(
            Effect.map(PubSub.subscribe(topic.pubsub), (subscription) => {
              const started = topic.current?.started
              return [subscription, topic.current, started, started?.log.bytesWritten ?? 0] as const
            })
          )
          const logSoFar =
            started === undefined || written === 0
              ? ""
              : new TextDecoder().decode(
                  (yield* fs
                    .readFile(started.logPath)
                    .pipe(
                      Effect.mapError((error) =>
                        setupError(
                          threadId,
                          `Could not read the setup log ${started.logPath}: ${error.message}.`,
                          started.logPath
                        )
                      )
                    )).subarray(0, written)
                )
          return { run: running?.run ?? null, logSoFar, lines: liveLines(subscription) } satisfies SetupFollow
        })

        const endOrphan = (threadId: ThreadId, run: number) =>
          endOrphanedGroup(logPath(threadId, run), threadId, options.killGrace ?? "3 seconds")

        return { run, isRunning, cancel, lines, follow, readLog, logPath, endOrphan }
      })
    )

  /** Logs under `<home>/logs`, default caps and grace. */
  static readonly layer = Layer.unwrap(
    Effect.gen(function* () {
      const config = yield* ServerConfig
      return SetupScripts.layerWith({ logsDir: join(config.home, "logs") })
    })
  )
}

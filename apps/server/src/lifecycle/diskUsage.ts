// How much disk a folder takes (`du -sk`, one file system), for `spindle worktrees`. Null when
// it cannot be measured (no du, a timeout): the listing goes on without the figure.
import * as Effect from "effect/Effect"
import * as ChildProcess from "effect/process/ChildProcess"
import type { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"

export const diskUsage = (spawner: ChildProcessSpawner["Service"], path: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const handle = yield* spawner.spawn(
        ChildProcess.make("du", ["-s", "-k", "-x", "--", path], {
          stdin: "ignore",
          forceKillAfter: "1 second"
        })
      )
      const [stdout, exitCode] = yield* Effect.all(
        [
          handle.stdout.pipe(Stream.decodeText, Stream.mkString),
          handle.exitCode,
          handle.stderr.pipe(Stream.runDrain)
        ],
        { concurrency: "unbounded" }
      )
      const kib = Number(stdout.trim().split(/\s+/)[0])
      return Number(exitCode) === 0 && Number.isFinite(kib) ? kib * 1024 : null
    })
  ).pipe(
    Effect.timeoutOption("30 seconds"),
    Effect.map((size) => (size._tag === "Some" ? size.value : null)),
    Effect.orElseSucceed(() => null)
  )

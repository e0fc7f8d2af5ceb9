// A setup script runs in its own process group, so it can outlive a server that was killed with
// SIGKILL. While it runs, its group id sits next to its log; at the next start, recovery ends a
// group still alive, but only after checking that it really is that thread's setup (a pid can be
// reused by an unrelated process).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** `<logs>/<thread>/setup-<n>.log` -> `<logs>/<thread>/setup-<n>.pgid` */
export const groupFilePath = (logPath: string) => logPath.replace(/\.log$/, ".pgid")

export const recordGroup = (logPath: string, pid: number) =>
  Effect.acquireRelease(
    Effect.sync(() => writeFileSync(groupFilePath(logPath), `${pid}\n`, { mode: 0o600 })),
    () => Effect.sync(() => rmSync(groupFilePath(logPath), { force: true }))
  )

/** Signals the group; a group that is already gone is not an error. */
const signalGroup = (pgid: number, signal: NodeJS.Signals) =>
  Effect.sync(() => {
    try {
      process.kill(-pgid, signal)
    } catch {
      // ESRCH: it ended between the check and the signal.
    }
  })

const alive = (pgid: number) => {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

/** True when the process `pid` was started with SPINDLE_THREAD_ID=<threadId> (Linux /proc). */
const belongsTo = (pid: number, threadId: string) => {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1")
      .split("\0")
      .includes(`SPINDLE_THREAD_ID=${threadId}`)
  } catch {
    return false
  }
}

/**
 * Ends the setup group recorded for this run if it is still alive and still that thread's setup:
 * SIGTERM to the group, SIGKILL after `grace`. Answers whether a group was ended.
 */
export const endOrphanedGroup = (logPath: string, threadId: string, grace: Duration.Input = "3 seconds") =>
  Effect.gen(function* () {
    const file = groupFilePath(logPath)
    if (!existsSync(file)) return false
    const pgid = Number(readFileSync(file, "utf8").trim())
    rmSync(file, { force: true })
    if (!Number.isInteger(pgid) || pgid <= 1 || !alive(pgid) || !belongsTo(pgid, threadId)) return false
    yield* signalGroup(pgid, "SIGTERM")
    const gone = yield* Effect.sync(() => !alive(pgid)).pipe(
      Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("50 millis") }),
      Effect.timeout(grace),
      Effect.orElseSucceed(() => false)
    )
    if (!gone) yield* signalGroup(pgid, "SIGKILL")
    return true
  })

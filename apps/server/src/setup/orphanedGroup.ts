// A setup script runs in its own process group, so it can outlive a server that was killed with
// SIGKILL. While it runs, its group (id and leader's start time) sits next to its log; at the next
// start, recovery ends a group still alive, but only after checking that it really is that
// thread's setup (a pid can be reused by an unrelated process). What "the same group, still
// running" means, and how it is ended, is @spindle/shared/processGroup's, shared with git's
// processes journaled by bootstraps and archives.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { groupOf, isSameGroupRunning, settleGroup } from "@spindle/shared/processGroup"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** `<logs>/<thread>/setup-<n>.log` -> `<logs>/<thread>/setup-<n>.pgid` */
export const groupFilePath = (logPath: string) => logPath.replace(/\.log$/, ".pgid")

/** Writes `<pgid> <start time>` next to the log while the scope lasts. */
export const recordGroup = (logPath: string, pid: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const { pgid, startTime } = groupOf(pid)
      writeFileSync(groupFilePath(logPath), `${[pgid, startTime].filter((v) => v !== null).join(" ")}\n`, {
        mode: 0o600
      })
    }),
    () => Effect.sync(() => rmSync(groupFilePath(logPath), { force: true }))
  )

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
    const [pgid, startTime] = readFileSync(file, "utf8").trim().split(" ")
    rmSync(file, { force: true })
    const group = {
      pgid: Number(pgid),
      startTime: startTime === undefined || startTime === "" ? null : startTime
    }
    if (!isSameGroupRunning(group)) return false
    // A file written before start times were recorded: the leader must still be that thread's setup.
    if (group.startTime === null && !belongsTo(group.pgid, threadId)) return false
    return (yield* settleGroup(group, { grace })) !== "none"
  })
